"""`broadcaster urgent` as an officer runs it: clear one-line errors that write nothing, playing
locally when no serve runs (ALSA file capture as the card), and a locked data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from playout_helpers import locate
from support.pulse import read_wav_lenient

BIN = Path(sys.executable).parent / "broadcaster"
MESSAGE = "Cháy rừng ở xã bên, đề nghị bà con không đốt nương."


@pytest.fixture
def env(tmp_path, data_dir):
    """Offline settings, and a HOME whose .asoundrc sends ALSA's default device to a WAV file."""
    home = tmp_path / "home"
    home.mkdir()
    capture = tmp_path / "captured.wav"
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{capture}"; format "wav" }}\n', encoding="utf-8"
    )
    e = dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    e["_capture"] = str(capture)
    return e


DISPATCH = [sys.executable, "-c", "from broadcaster.cli.entry import main; main()"]


def cli(*args: str, env: dict, timeout: float = 120, entry: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*(entry or [str(BIN)]), *args], capture_output=True, text=True, env=env, timeout=timeout)


def as_run(env) -> list[dict]:
    r = cli("log", "--json", env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "Cần đúng một trong ba: --text, --file hoặc --mic"),
        (["--text", MESSAGE, "--mic"], "(đã cho --text, --mic)"),
        (["--text", MESSAGE, "--file", "a.mp3"], "(đã cho --text, --file)"),
        (["--text", "   "], "Nội dung thông báo khẩn cấp trống"),
        (["--file", "/không/có/tệp.mp3"], "Không tìm thấy tệp ghi âm: /không/có/tệp.mp3"),
        (["--text", MESSAGE, "--repeat", "0"], "--repeat phải từ 1 trở lên"),
        (["--text", MESSAGE, "--repeat", "2", "--every", "0"], "--every phải lớn hơn 0"),
        (["--mic", "--repeat", "3"], "micro không lặp lại được"),
    ],
)
@pytest.mark.parametrize("entry", ["script", "dispatch"])
def test_bad_input_one_line_error_and_no_row(env, data_dir, args, fragment, entry):
    # the fast entry (cli.entry.main, the console script) checks the same things before looking for a serve
    r = cli("urgent", *args, env=env, entry=DISPATCH if entry == "dispatch" else None)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: ") and fragment in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not Path(env["_capture"]).exists(), "the sound card was opened"
    assert as_run(env) == []


def test_locked_data_dir_without_serve_json_says_so(env, data_dir):
    from broadcaster.scheduling.lock import DataDirLock

    data_dir.mkdir(parents=True, exist_ok=True)
    with DataDirLock(data_dir):
        r = cli("urgent", "--text", MESSAGE, env=env)
    assert r.returncode != 0
    line = r.stderr.strip()
    assert line.startswith("Lỗi: Một đài khác đang chạy trên thư mục dữ liệu") and "serve.json" in line, line
    assert f"tiến trình {os.getpid()}" in line
    assert len(line.splitlines()) == 1
    assert as_run(env) == []


def test_plays_locally_when_no_serve_runs(env, data_dir):
    # a serve.json left by a killed serve (its pid is gone) must not stop the announcement
    (data_dir / "run").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (data_dir / "run" / "serve.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": dead.pid}))
    r = cli("urgent", "--text", MESSAGE, "--repeat", "2", "--operator", "Hùng", env=env)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for line in ("Đang mở thiết bị âm thanh…", "Đang phát tín hiệu chú ý…", "Đang phát thông báo khẩn cấp (lần 1/2)…",
                 "Đang phát thông báo khẩn cấp (lần 2/2)…", "Đã phát xong thông báo khẩn cấp (2 lần)."):
        assert line in out, out
    rows = as_run(env)
    assert [(r["title"], r["status"], r["kind"], r["bulletin_class"], r["operator"]) for r in rows] == [
        ("Tín hiệu chú ý (khẩn cấp)", "aired", "urgent", "khan_cap", "Hùng"),
        (f"Thông báo khẩn cấp: {MESSAGE} (lần 1/2)", "aired", "urgent", "khan_cap", "Hùng"),
        (f"Thông báo khẩn cấp: {MESSAGE} (lần 2/2)", "aired", "urgent", "khan_cap", "Hùng"),
    ]
    assert len({r["requested_at"] for r in rows}) == 1 and "." in rows[0]["requested_at"]  # sub-second kept
    heard, rate, _ = read_wav_lenient(Path(env["_capture"]))
    from broadcaster.station.urgent import prepare_attention_tone
    import wave

    with wave.open(str(prepare_attention_tone(_settings(data_dir))), "rb") as w:
        attention = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    signal = heard[:, 0]
    assert rate == 48000 and locate(signal, attention[4800:], length=48000) is not None, "no attention tone on the card"


def _settings(data_dir):
    from broadcaster.config import load_settings

    return load_settings(data_dir)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--text", MESSAGE, "--repeat", "hai"], "Lỗi: Tham số không hợp lệ: --repeat: 'hai' không phải là số"),
        (["--text", MESSAGE, "--màu", "đỏ"], "Lỗi: Tham số không hợp lệ: không hiểu tham số: --màu đỏ"),
        (["--text"], "Lỗi: Tham số không hợp lệ: --text: thiếu giá trị"),
    ],
)
def test_fast_entry_parse_errors_are_vietnamese_lines(env, args, message):
    r = cli("urgent", *args, env=env, entry=DISPATCH)
    assert r.returncode == 1 and r.stderr.strip() == message, r.stderr


def test_plays_locally_despite_an_unknown_setting_and_says_so(env, data_dir):
    # issue 10 item 8: a misspelled key stops ordinary commands, but never an urgent announcement
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text("espeak_rat = 150\n", encoding="utf-8")
    r = cli("urgent", "--text", MESSAGE, "--operator", "Hùng", env=env)
    assert r.returncode == 0, r.stderr
    assert "Đã phát xong thông báo khẩn cấp" in r.stdout, r.stdout
    assert "Cảnh báo: Cài đặt không có tên 'espeak_rat'" in r.stderr and "'espeak_rate'" in r.stderr, r.stderr
    refused = cli("log", "--json", env=env)  # an ordinary command stops on the same file
    assert refused.returncode != 0 and refused.stderr.startswith("Lỗi: Cài đặt không có tên 'espeak_rat'")
    (data_dir / "settings.toml").write_text("espeak_rate = 150\n", encoding="utf-8")
    assert [row["status"] for row in as_run(env)] == ["aired", "aired"]  # the tone and the message
