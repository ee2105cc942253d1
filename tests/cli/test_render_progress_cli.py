"""Issue 13 items 3-4 on the command line: a long `broadcaster render` shows a progress bar with the
share done and the time left; `broadcaster --help` and `speech normalize` load no heavy library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "broadcaster"
HEAVY = ("numpy", "fastapi", "apscheduler", "sounddevice", "sqlalchemy", "sqlmodel", "pydantic_settings",
         "broadcaster.db", "broadcaster.models", "onnxruntime", "edge_tts", "docx")
SENTENCE = "Ủy ban nhân dân xã Dân Tiến thông báo lịch tiêm phòng năm 2026 cho trẻ em trong thôn."


def test_long_render_shows_a_progress_bar_with_time_left(tmp_path, data_dir):
    text = tmp_path / "long.txt"
    text.write_text("\n".join([SENTENCE] * 12), encoding="utf-8")
    env = dict(os.environ, BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]',
               TTY_COMPATIBLE="1", TTY_INTERACTIVE="1", COLUMNS="120")
    out = tmp_path / "long.wav"
    run = subprocess.run([str(BIN), "render", "--file", str(text), "-o", str(out)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert out.is_file()
    assert "Đang dựng" in run.stderr  # the bar's label
    assert "100%" in run.stderr  # the share done
    assert "còn" in run.stderr  # the time left column's label
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("args", [["--help"], ["speech", "normalize", "Ngày 1/2/2026, UBND xã họp."]],
                         ids=["help", "speech-normalize"])
def test_light_commands_load_no_heavy_library(args):
    probe = (
        "import sys\n"
        f"sys.argv = ['broadcaster'] + {args!r}\n"
        "from broadcaster.cli.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "LOADED []" in run.stderr, run.stderr[-2000:]
