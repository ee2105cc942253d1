"""An HTTP API server like `serve`'s, in this process: uvicorn in a thread over the api router.

    with ApiServer(station, onair, data_dir) as api:   # api.url, api.token
        subprocess.run([BIN, "urgent", "--text", ...])  # the CLI sends it to this process

Used until (and besides) the real `broadcaster serve` subprocess by the urgent tests (tests/station)
and the urgent latency bench: the CLI finds it through <data_dir>/run/serve.json and run/api-token
exactly as it finds a real serve.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

from fastapi import FastAPI
from support.ports import free_port
from support.waiting import wait_for


class ApiServer:
    """uvicorn serving the api router for a station and its OnAir; writes serve.json and the token."""

    def __init__(self, station, onair, data_dir: Path) -> None:
        import uvicorn

        from broadcaster.web import api

        self.token = secrets.token_urlsafe(24)
        app = FastAPI()
        app.state.station, app.state.onair, app.state.api_token = station, onair, self.token
        app.include_router(api.router)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.data_dir = Path(data_dir)

    def __enter__(self) -> ApiServer:
        self.thread.start()
        wait_for(lambda: self.server.started, 10, "uvicorn started")
        run = self.data_dir / "run"
        run.mkdir(parents=True, exist_ok=True)
        token = run / "api-token"
        token.write_text(self.token, encoding="utf-8")
        token.chmod(0o600)
        (run / "serve.json").write_text(json.dumps({"url": self.url, "pid": os.getpid()}), encoding="utf-8")
        return self

    def __exit__(self, *exc_info) -> None:
        (self.data_dir / "run" / "serve.json").unlink(missing_ok=True)
        self.server.should_exit = True
        self.thread.join(10)
