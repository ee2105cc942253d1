"""The speech and lexicon CLI apps, driven with typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from broadcaster.cli.speech import lexicon_app, speech_app


@pytest.fixture(name="runner")
def runner_fixture():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always keeps stderr apart
        return CliRunner()


@pytest.fixture(name="data_dir")
def data_dir_fixture(tmp_path, monkeypatch):
    monkeypatch.delenv("BROADCASTER_DATA_DIR", raising=False)
    return tmp_path / "data"


def test_normalize_text_argument(runner, data_dir):
    result = runner.invoke(speech_app, ["normalize", "UBND xã họp lúc 8h ngày 15/7.", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Ủy ban nhân dân xã họp lúc tám giờ ngày mười lăm tháng bảy.\n"


def test_normalize_stdin_one_line_per_line(runner, data_dir):
    lines = ["Khi có cháy gọi ngay 114.", "", "II. NỘI DUNG", "   ", "Trực 24/24 giờ.\r", "😀"]
    result = runner.invoke(speech_app, ["normalize", "-", "--data-dir", str(data_dir)], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.split("\n") == [
        "Khi có cháy gọi ngay một một bốn.", "", "Phần hai. Nội dung", "", "Trực hai mươi tư trên hai mươi tư giờ.",
        "😀", "",
    ]


def test_normalize_without_text_reads_stdin(runner, data_dir):
    result = runner.invoke(speech_app, ["normalize", "--data-dir", str(data_dir)], input="thứ 4\nthứ 7")
    assert result.exit_code == 0, result.output
    assert result.stdout == "thứ tư\nthứ bảy\n"


def test_normalize_uses_the_station_lexicon_and_env_data_dir(runner, data_dir, monkeypatch):
    assert runner.invoke(lexicon_app, ["add", "TP", "thành phố", "--data-dir", str(data_dir)]).exit_code == 0
    monkeypatch.setenv("BROADCASTER_DATA_DIR", str(data_dir))
    result = runner.invoke(speech_app, ["normalize", "TP Thái Nguyên"])
    assert result.stdout == "thành phố Thái Nguyên\n"


def test_lexicon_add_list_remove(runner, data_dir):
    dd = ["--data-dir", str(data_dir)]
    result = runner.invoke(lexicon_app, ["add", "TP", "thành phố", *dd])
    assert result.exit_code == 0, result.output
    assert (data_dir / "lexicon.tsv").read_text(encoding="utf-8").endswith("TP\tthành phố\n")
    result = runner.invoke(lexicon_app, ["add", "UBND", "ủy ban", *dd])
    assert result.exit_code == 0

    listing = runner.invoke(lexicon_app, ["list", *dd])
    assert listing.exit_code == 0
    assert "TP\tthành phố\tcủa đài" in listing.stdout.splitlines()
    assert "UBND\tủy ban\tcủa đài" in listing.stdout.splitlines()
    assert "HĐND\tHội đồng nhân dân\tcó sẵn" in listing.stdout.splitlines()

    rows = json.loads(runner.invoke(lexicon_app, ["list", "--json", *dd]).stdout)
    by_written = {row["written"]: row for row in rows}
    assert by_written["TP"] == {"written": "TP", "spoken": "thành phố", "source": "station"}
    assert by_written["CN"]["source"] == "builtin"

    result = runner.invoke(lexicon_app, ["remove", "TP", *dd])
    assert result.exit_code == 0
    assert "TP" not in (data_dir / "lexicon.tsv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [["remove", "XYZ"], ["remove", "UBND"], ["add", "", "x"], ["add", "A\tB", "x"], ["add", "AB", "  "]],
)
def test_lexicon_errors_are_one_line_and_exit_1(runner, data_dir, args):
    result = runner.invoke(lexicon_app, [*args, "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Lỗi: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_unreadable_lexicon_file_is_a_clean_error(runner, data_dir):
    data_dir.mkdir()
    (data_dir / "lexicon.tsv").write_bytes(b"TP\t\xff\xfe bad bytes\n")
    result = runner.invoke(speech_app, ["normalize", "TP", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Lỗi: ")


def test_bad_lexicon_line_is_a_warning_not_a_failure(runner, data_dir):
    data_dir.mkdir()
    (data_dir / "lexicon.tsv").write_text("TP\tthành phố\nbroken\n", encoding="utf-8")
    result = runner.invoke(speech_app, ["normalize", "TP", "--data-dir", str(data_dir)])
    assert result.exit_code == 0
    assert result.stdout == "thành phố\n"
    assert result.stderr.startswith("Cảnh báo: ")


def test_stdout_is_utf8_whatever_the_locale(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIOENCODING", "PYTHONUTF8"))}
    env.update(LC_ALL="C", LANG="C", PYTHONUTF8="0", BROADCASTER_DATA_DIR=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-c", "from broadcaster.cli.speech import speech_app; speech_app()", "normalize", "-"],
        input="Thứ 4 UBND xã\n".encode(), capture_output=True, env=env, timeout=60,
    )
    assert run.returncode == 0, run.stderr.decode("utf-8", "replace")
    assert run.stdout.decode("utf-8") == "Thứ tư Ủy ban nhân dân xã\n"


def test_speech_check_reads_stdin_and_prints_line_token_reading(runner, data_dir):
    """Issue #12 item 7: `speech check -` lists every token that will be spelled, line by line."""
    lines = ["UBND xã sửa đường ĐT.265.", "", "Lưu: VT, ABC.", "Không có gì lạ."]
    result = runner.invoke(speech_app, ["check", "-", "--data-dir", str(data_dir)], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "1\tĐT.265\tđê tê hai trăm sáu mươi lăm\n3\tABC\ta bê xê\n"
    assert runner.invoke(lexicon_app, ["add", "ABC", "an bình cư", "--data-dir", str(data_dir)]).exit_code == 0
    result = runner.invoke(speech_app, ["check", "-", "--data-dir", str(data_dir)], input="Lưu: VT, ABC.\n")
    assert result.exit_code == 0 and result.stdout == ""


@pytest.mark.parametrize("command", ["normalize", "check"])
def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path, command):
    """`speech normalize - | head -1` (check likewise): the answer to each line comes as the line is read;
    once the reader is gone, the next answer ends the command with exit 0 and no traceback."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, BROADCASTER_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from broadcaster.cli.speech import speech_app; speech_app()", command, "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    line = "Lưu: VT, ABC.\n".encode()  # an answer from both commands (ABC is spelled)
    proc.stdin.write(line)
    proc.stdin.flush()
    assert proc.stdout.readline().endswith(b"\n")  # the first answer, before the next line is sent
    proc.stdout.close()  # the reader goes away
    proc.stdin.write(line)
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    errors = proc.stderr.read().decode("utf-8", "replace")
    assert "Traceback" not in errors and "BrokenPipe" not in errors and "Exception ignored" not in errors, errors
