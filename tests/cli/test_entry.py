"""The console script's fast urgent path (broadcaster/cli/entry.py): `broadcaster urgent …` with a
serve running reaches it over HTTP without importing the full CLI or its libraries (typer,
SQLModel, pydantic): urgent latency is measured from the command (issue 10 item 4).

The running serve is a stdlib HTTP server in this process standing in for `serve`'s API (the real
one is exercised end to end in tests/urgent/test_urgent_serve.py); the command is a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HEAVY = ("typer", "click", "sqlmodel", "sqlalchemy", "pydantic", "pydantic_settings", "rich", "numpy",
         "broadcaster.cli.app", "broadcaster.config")

PROBE = """
import json, sys
from broadcaster.cli.entry import main
sys.argv = ["broadcaster", *sys.argv[1:]]
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "heavy": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)


@pytest.fixture
def fake_serve(data_dir):
    received: list[tuple[str, dict, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            received.append((self.path, body, self.headers.get("Authorization", "")))
            raw = json.dumps({"id": 7, "requested_at": "2026-12-01T08:00:00+00:00"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    run = data_dir / "run"
    run.mkdir(parents=True)
    (run / "serve.json").write_text(json.dumps({"url": f"http://127.0.0.1:{server.server_port}", "pid": os.getpid()}))
    (run / "api-token").write_text("secret-token\n")
    yield received
    server.shutdown()
    server.server_close()


def _probe(*args: str, env=None) -> tuple[subprocess.CompletedProcess, dict]:
    run = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60,
                         env=env or os.environ)
    return run, json.loads(run.stdout.strip().splitlines()[-1])


def test_urgent_through_a_running_serve_imports_no_heavy_module(fake_serve, data_dir):
    run, result = _probe("urgent", "--text", "Thông báo khẩn.", "--operator", "Hùng")
    assert result == {"code": 0, "heavy": []}, run.stderr
    assert "yêu cầu số 7" in run.stdout
    [(path, body, auth)] = fake_serve
    assert (path, auth) == ("/api/urgent", "Bearer secret-token")
    assert body == {"text": "Thông báo khẩn.", "repeat": 1, "operator": "Hùng"}


def test_data_dir_before_the_command_is_honoured_on_the_fast_path(fake_serve, data_dir, tmp_path):
    env = dict(os.environ, BROADCASTER_DATA_DIR=str(tmp_path / "elsewhere"))
    run, result = _probe("--data-dir", str(data_dir), "urgent", "--text", "Khẩn.", env=env)
    assert result == {"code": 0, "heavy": []}, run.stderr
    assert len(fake_serve) == 1


def test_bad_urgent_input_is_one_error_line_without_the_full_cli(data_dir):
    run, result = _probe("urgent", "--repeat", "0", "--text", "Khẩn.")
    assert result["heavy"] == [] and result["code"] != 0
    assert run.stderr.strip().splitlines() == ["Lỗi: --repeat phải từ 1 trở lên"]


def test_any_other_command_runs_the_full_cli(data_dir):
    run, result = _probe("bulletin", "list", "--json")
    assert result["code"] == 0, run.stderr
    assert "typer" in result["heavy"]
    assert json.loads(run.stdout.strip().rsplit("\n", 1)[0] or "[]") == []
