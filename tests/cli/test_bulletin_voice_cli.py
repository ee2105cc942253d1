"""`broadcaster bulletin add --voice` (issue 12 item 4): the voice is stored; one not installed is
one `Lỗi:` line, a non-zero exit and no bulletin."""

from __future__ import annotations

import json
from functools import partial

from cli_helpers import invoke

from broadcaster.cli.app import app

cli = partial(invoke, app)  # cli(*args, data_dir=...)


def _listed(data_dir):
    return json.loads(cli("bulletin", "list", "--json", data_dir=data_dir).output)


def test_a_bulletin_is_added_with_its_voice(data_dir, monkeypatch):
    monkeypatch.setenv("BROADCASTER_ENGINE_ORDER", "espeak")
    r = cli("bulletin", "add", "--title", "Họp dân", "--text", "Tối nay họp dân.", "--voice", "espeak:vi",
            data_dir=data_dir)
    assert r.exit_code == 0, r.output
    assert [b["voice"] for b in _listed(data_dir)] == ["espeak:vi"]


def test_a_voice_not_installed_is_one_line_and_nothing_is_added(data_dir, monkeypatch):
    monkeypatch.setenv("BROADCASTER_ENGINE_ORDER", "espeak")
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "broadcaster"  # the console script: it prints the Lỗi: line
    run = subprocess.run(
        [str(script), "bulletin", "add", "--title", "Họp dân", "--text", "Tối nay họp dân.",
         "--voice", "edge:vi-VN-NamMinhNeural", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "BROADCASTER_ENGINE_ORDER": "espeak"},
    )
    assert run.returncode != 0
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Lỗi: Giọng đọc 'edge:vi-VN-NamMinhNeural' chưa được cài"), lines
    assert _listed(data_dir) == []
