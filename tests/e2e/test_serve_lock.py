"""A second `broadcaster serve` on the same data directory: refused with one line before it writes
anything, so the first one's run/serve.json, API token and as-run log stay as they were and
`broadcaster urgent` still reaches the first station. Real subprocesses, no sound card."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


BIN = Path(sys.executable).parent / "broadcaster"




def _wait_running(path: Path, proc, out: Path, timeout: float = 60.0) -> dict:
    """serve.json, once serve says its scheduler runs (after its start-up writes: recovery, schema)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "Đài đang chạy." in out.read_text(errors="replace"):
            return json.loads(path.read_text())
        assert proc.poll() is None, out.read_text(errors="replace")
        time.sleep(0.1)
    raise AssertionError(f"serve did not start: {out.read_text(errors='replace')}")


def _on_air_rows(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path, timeout=10) as con:
        return con.execute("SELECT id, status FROM as_run WHERE status = 'on_air' ORDER BY id").fetchall()


def test_a_second_serve_is_refused_and_leaves_the_first_untouched(env, data_dir, tmp_path):
    log_path = tmp_path / "first.log"
    with open(log_path, "wb") as log:  # a file, not a pipe: a full pipe would block serve
        first = subprocess.Popen([str(BIN), "serve", "--port", "0"], stdout=log, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True)
    info_path = data_dir / "run" / "serve.json"
    token_path = data_dir / "run" / "api-token"
    try:
        info = _wait_running(info_path, first, log_path)
        assert info["pid"] == first.pid
        before = {p: p.read_bytes() for p in (info_path, token_path)}
        stamps = {p: p.stat().st_mtime_ns for p in before}
        # a row the first station has on air: a second start must not "recover" it as interrupted
        with sqlite3.connect(data_dir / "broadcaster.db", timeout=10) as con:
            con.execute(
                "INSERT INTO as_run (title, status, kind, started_at) VALUES ('Đang phát', 'on_air', 'programme', "
                "'2026-12-01 08:00:00')"
            )
        on_air = _on_air_rows(data_dir / "broadcaster.db")
        assert len(on_air) == 1

        second = subprocess.run([str(BIN), "serve", "--port", "0"], capture_output=True, text=True, env=env,
                                timeout=120)
        lines = [line for line in second.stderr.splitlines() if line.strip()]
        assert second.returncode != 0, second.stdout + second.stderr
        assert len(lines) == 1 and lines[0].startswith("Lỗi:") and "Đài đang chạy ở thư mục dữ liệu này" in lines[0], (
            second.stderr
        )
        assert str(first.pid) in lines[0]  # names the process that holds it
        assert {p: p.read_bytes() for p in before} == before  # the first one's files, byte for byte
        assert {p: p.stat().st_mtime_ns for p in before} == stamps  # not even rewritten
        assert _on_air_rows(data_dir / "broadcaster.db") == on_air  # its row on air stays on air
        assert "Bảng điều khiển web" not in second.stdout  # it never served

        urgent = subprocess.run([str(BIN), "urgent", "--text", "Thử khẩn cấp."], capture_output=True, text=True,
                                env=env, timeout=120)
        # it reached the running station (not a second one); with no sound card in this env the
        # station says it could not air it, and the command exits non-zero (issue 11 item 9)
        assert f"Đài đang chạy ({info['url']}) trả lời:" in urgent.stderr, urgent.stdout + urgent.stderr
        assert urgent.returncode == 1 and "không phát được" in urgent.stderr, urgent.stdout + urgent.stderr
        assert first.poll() is None  # the first station is still running
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(30)
    assert first.returncode == 0, log_path.read_text(errors="replace")
    assert not info_path.exists()  # the first one cleans up its own file on exit
