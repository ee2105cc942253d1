"""Hardening of the installed `broadcaster` command (issue 9, items 4 and 9): input limits, non-UTF-8
files, wrong settings, list settings from the environment, output paths, the network warning of
`serve --host 0.0.0.0`, and no SQLAlchemy/pydantic internals in what the user reads."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.ports import free_port

BIN = Path(sys.executable).parent / "broadcaster"
INTERNALS = ("pydantic", "sqlalche.me", "errors.pydantic.dev", "[SQL", "Traceback", "For further information",
             "validation error", "input_value")


def cli(*args, env, timeout=120):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=timeout)


def one_error_line(r, *needles: str) -> str:
    """The command failed with exactly one clean `Lỗi: …` line containing every needle."""
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("Lỗi"), r.stderr
    for bad in INTERNALS:
        assert bad not in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def bulletins(env) -> list[dict]:
    r = cli("bulletin", "list", "--json", env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# ------------------------------------------------------------------------ item 4
def test_long_title_is_refused_before_it_is_stored(env):
    r = cli("bulletin", "add", "--title", "T" * 400, "--text", "Nội dung.", env=env)
    one_error_line(r, "300")
    assert bulletins(env) == []
    r = cli("bulletin", "list", env=env)
    assert r.returncode == 0, r.stderr


def test_long_text_is_refused_before_it_is_stored_or_rendered(env, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("Thông báo. " * 20000, encoding="utf-8")  # 220,000 characters
    one_error_line(cli("bulletin", "add", "--title", "Dài", "--file", str(big), env=env), "100000")
    assert bulletins(env) == []
    out = tmp_path / "out.wav"
    long_ascii = "Thong bao. " * 9200  # 101,200 characters: over the limit, under the OS limit of one argument
    one_error_line(cli("render", "--text", long_ascii, "-o", str(out), env=env), "100000")
    one_error_line(cli("render", "--file", str(big), "-o", str(out), env=env), "100000")
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_non_utf8_file_is_refused_and_utf16_with_bom_is_read(env, tmp_path):
    text = "Thông báo lịch tiêm phòng cho trẻ em"
    cp = tmp_path / "cp1258.txt"
    cp.write_bytes(text.encode("cp1258", errors="replace") + b"\xe0\xe1")
    one_error_line(cli("bulletin", "add", "--title", "A", "--file", str(cp), env=env), "UTF-8")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Thông báo: café à côté".encode("latin-1"))
    one_error_line(cli("bulletin", "add", "--title", "B", "--file", str(latin), env=env), "UTF-8")
    assert bulletins(env) == []
    for name, raw in [("u16.txt", text.encode("utf-16")), ("u8bom.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))]:
        path = tmp_path / name
        path.write_bytes(raw)
        r = cli("bulletin", "add", "--title", name, "--file", str(path), env=env)
        assert r.returncode == 0, r.stderr
    assert [b["text"] for b in bulletins(env)] == [text, text]


# ------------------------------------------------------------------------ item 9
@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ('timezone = "Mars/Olympus"', "timezone"),
        ("sample_rate = 0", "sample_rate"),
        ("sample_rate = 5000000", "sample_rate"),
        ("misfire_grace_s = -5", "misfire_grace_s"),
        ("speech_chunk_chars = 0", "speech_chunk_chars"),
        ("target_lufs = 3", "target_lufs"),
        ('urgent_resume = "maybe"', "urgent_resume"),
        ("gtts_timeout = 0", "gtts_timeout"),
        ("target_lufs = nan", "target_lufs"),
    ],
)
def test_wrong_setting_is_refused_with_one_line_naming_it(env, data_dir, line, setting):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text(line + "\n", encoding="utf-8")
    line = one_error_line(cli("bulletin", "list", env=env), setting)
    assert line.startswith("Lỗi: ") and f"{setting}" in line.split(":", 1)[1], line


def test_wrong_setting_from_the_environment_or_a_broken_file_is_one_line(env, data_dir):
    one_error_line(cli("bulletin", "list", env=dict(env, BROADCASTER_SAMPLE_RATE="abc")), "sample_rate")
    one_error_line(cli("bulletin", "list", env=dict(env, BROADCASTER_ENGINE_ORDER="espeak,sapi")), "engine_order")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text("sample_rate = = 3\n", encoding="utf-8")
    one_error_line(cli("bulletin", "list", env=env), "settings.toml")
    # several wrong settings: one line for each, each naming its setting
    (data_dir / "settings.toml").write_text("sample_rate = 0\nfade_ms = -1\n", encoding="utf-8")
    r = cli("bulletin", "list", env=env)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode != 0 and len(lines) == 2, r.stderr
    assert "sample_rate" in lines[0] and "fade_ms" in lines[1] and all(x.startswith("Lỗi: ") for x in lines)


def test_list_setting_from_the_environment_accepts_a_plain_comma_list(env, tmp_path):
    from broadcaster.config import load_settings

    for value, expected in [("espeak,gtts", ["espeak", "gtts"]), ("gtts", ["gtts"]), (" espeak , gtts ", ["espeak", "gtts"]),
                            ('["espeak"]', ["espeak"])]:
        os.environ["BROADCASTER_ENGINE_ORDER"] = value
        try:
            assert load_settings(tmp_path / "d").engine_order == expected, value
        finally:
            del os.environ["BROADCASTER_ENGINE_ORDER"]
    r = cli("bulletin", "list", env=dict(env, BROADCASTER_ENGINE_ORDER="espeak,gtts"))
    assert r.returncode == 0, r.stderr


def _refused_output(env, out: Path, *needles: str) -> None:
    one_error_line(cli("render", "--text", "Xin chào.", "-o", str(out), env=env), *needles)


def test_render_output_must_be_a_regular_file_in_an_existing_folder(env, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _refused_output(env, fifo, str(fifo))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # left as it was
    _refused_output(env, tmp_path / "no-such-folder" / "out.wav", "no-such-folder")
    assert not (tmp_path / "no-such-folder").exists()
    _refused_output(env, tmp_path, str(tmp_path))
    assert not list(tmp_path.glob("*.part"))
    out = tmp_path / "out.wav"
    for _ in range(2):  # a new file, then the same file overwritten: still allowed
        r = cli("render", "--text", "Xin chào.", "--no-jingles", "-o", str(out), env=env)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes()[:4] == b"RIFF"


def test_schedule_export_refuses_a_pipe_or_a_missing_folder(env, tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    one_error_line(cli("schedule", "export", str(fifo), env=env), str(fifo))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    one_error_line(cli("schedule", "export", str(tmp_path / "nope" / "t.toml"), env=env), "nope")
    assert not (tmp_path / "nope").exists()
    r = cli("schedule", "export", str(tmp_path / "t.toml"), env=env)
    assert r.returncode == 0 and (tmp_path / "t.toml").read_text(encoding="utf-8").strip(), r.stderr


def test_render_output_refuses_a_device_node(env, tmp_path):
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    _refused_output(env, node, str(node))
    one_error_line(cli("schedule", "export", str(node), env=env), str(node))
    assert stat.S_ISCHR(os.stat(node).st_mode)  # not replaced by a regular file
    assert not list(tmp_path.glob("*.part"))


def test_corrupt_database_is_one_clean_line(env, data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "broadcaster.db").write_bytes(b"this is not a database at all " * 200)
    line = one_error_line(cli("bulletin", "list", env=env), "cơ sở dữ liệu")
    assert "broadcaster.db" in line and "sqlalche" not in line, line


def _serve_output(env, data_dir, host: str) -> str:
    port = free_port()
    proc = subprocess.Popen([str(BIN), "serve", "--host", host, "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    info = data_dir / "run" / "serve.json"
    try:
        deadline = time.monotonic() + 90
        while not info.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while info.exists() and time.monotonic() < deadline:  # removed by the stopping serve
        time.sleep(0.05)
    return out + err


def test_serve_refuses_an_impossible_port(env):
    line = one_error_line(cli("serve", "--port", "70000", env=env), "--port")
    assert "70000" in line, line


def test_serve_on_a_network_address_warns(env, data_dir):
    said = _serve_output(env, data_dir, "0.0.0.0")
    assert "Cảnh báo" in said and "mạng" in said and "0.0.0.0" in said, said
    said = _serve_output(env, data_dir, "127.0.0.1")
    assert "Cảnh báo: bảng điều khiển" not in said, said
