"""Issue 11 item 4 from the CLI: `broadcaster bulletin import FILE.docx` stores a draft titled by the
document's heading, without the parts never read on air; it says what it set aside, and
`--keep-all` keeps them. A .docx made with python-docx (heading, table, "Nơi nhận:", signature)."""

from __future__ import annotations

from cli_helpers import cli, rows
from cli_helpers import cli_env as env  # noqa: F401  (fixture)

from support import documents as sample


def test_bulletin_import_docx(env, data_dir, tmp_path):
    path = tmp_path / "thong-bao.docx"
    path.write_bytes(sample.official_docx())
    run = cli(env, "bulletin", "import", str(path))
    assert run.returncode == 0, run.stdout + run.stderr
    bulletin_id = int(run.stdout.strip().splitlines()[-1])
    [bulletin] = rows(data_dir)
    assert (bulletin.id, bulletin.title, bulletin.status) == (bulletin_id, sample.TITLE, "draft")
    for never in sample.NEVER_READ:
        assert never not in bulletin.text, never
    assert "Thôn 3; 15; 7h30." in bulletin.text.splitlines()
    # what was set aside is said, with how to keep it
    assert "Nơi nhận" in run.stderr and "Hoàng Văn Thảo" in run.stderr and "--keep-all" in run.stderr

    kept = cli(env, "bulletin", "import", str(path), "--keep-all", "--title", "Tiêm phòng đợt 1")
    assert kept.returncode == 0, kept.stderr
    second = [b for b in rows(data_dir) if b.id == int(kept.stdout.strip().splitlines()[-1])][0]
    assert second.title == "Tiêm phòng đợt 1"
    assert "Nơi nhận:" in second.text and "Hoàng Văn Thảo" in second.text and "Số: 12/TB-UBND" in second.text


def test_bulletin_import_refuses_a_bad_file_with_one_line(env, data_dir, tmp_path):
    for name, data in (("cu.doc", b"\xd0\xcf\x11\xe0 old word"), ("hong.docx", b"PK\x03\x04 broken")):
        path = tmp_path / name
        path.write_bytes(data)
        run = cli(env, "bulletin", "import", str(path))
        assert run.returncode != 0
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Lỗi: "), run.stderr
    assert rows(data_dir) == []
