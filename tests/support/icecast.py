"""A real Icecast 2 server for tests: Debian's icecast2 on a free port, its own config and logs.

    from support.icecast import icecast_server  # noqa: F401  (a fixture)

    def test_x(icecast_server):
        url = icecast_server.source_url("/dai.mp3")   # icecast://source:PW@127.0.0.1:PORT/dai.mp3
        ...
        icecast_server.wait_mount("/dai.mp3")          # a source is connected
        icecast_server.kill(); icecast_server.start()  # stage a lost / restarted server

The config comes from broadcaster.streaming.icecast_config (the one `broadcaster icecast-config`
prints) with test paths. Run as root, Icecast must drop to the icecast2 user (it refuses root):
the work folder is handed to that user. Skips with a reason when icecast2 is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import replace
from pathlib import Path

import pytest
from support.ports import free_port

from broadcaster.streaming.icecast_config import IcecastConfig

ICECAST = shutil.which("icecast2") or shutil.which("icecast")


START_ATTEMPTS = 4  # ports tried by a first start() when icecast2 cannot bind the one chosen


def _port_taken(address: str | None, port: int) -> bool:
    """Whether another socket holds `port` (icecast2 binds with SO_REUSEADDR, so TIME_WAIT does not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address or "", port))
        except OSError:
            return True
    return False


class IcecastServer:
    def __init__(self, *, bind_address: str | None = "127.0.0.1", host: str = "127.0.0.1",
                 port: int | None = None, **config) -> None:
        if not ICECAST:
            raise RuntimeError("icecast2 is not installed (apt-get install icecast2)")
        self.host = host
        self.port = port or free_port()
        # a port we chose may change until the first start succeeds (a caller's port, or a restart's, never)
        self._may_move = port is None
        self.directory = Path(tempfile.mkdtemp(prefix="icecast-test-"))
        (self.directory / "log").mkdir()
        run_as = None
        if os.geteuid() == 0:
            run_as = ("icecast2", "icecast")
            shutil.chown(self.directory / "log", "icecast2", "icecast")
        self.config = IcecastConfig(port=self.port, bind_address=bind_address, hostname=host,
                                    logdir=str(self.directory / "log"), run_as=run_as, **config).with_passwords()
        self.config_path = self.directory / "icecast.xml"
        self._write_config()
        if run_as:
            os.chmod(self.directory, 0o755)
        self.proc: subprocess.Popen | None = None

    def _write_config(self) -> None:
        self.config_path.write_text(self.config.xml(), encoding="utf-8")
        if self.config.run_as:
            shutil.chown(self.config_path, *self.config.run_as)

    # ------------------------------------------------------------------ life
    def start(self, timeout: float = 20.0) -> "IcecastServer":
        """Start icecast2 and wait until it answers (it, not whoever else listens there: with our admin password).

        The port is chosen free before icecast2 binds it, and another process may take it in between:
        the first start then moves to a new free port (up to START_ATTEMPTS in all) and says every
        port's reason if none works. A restart (after kill or stop) keeps its port, which the test's
        source and listen URLs name, and fails at once with the reason when it was taken meanwhile."""
        reasons: dict[int, str] = {}
        for attempt in range(START_ATTEMPTS if self._may_move else 1):
            if attempt:
                self.port = free_port()
                self.config = replace(self.config, port=self.port)
                self._write_config()
            reason = self._start_once(timeout)
            if reason is None:
                self._may_move = False
                return self
            reasons[self.port] = reason
        if not self._may_move:
            raise RuntimeError(f"icecast2 could not bind port {self.port}, taken by another process (a port the "
                               f"caller gave, or a restart's, is kept: URLs name it): {reasons[self.port]}")
        raise RuntimeError(f"icecast2 could not bind any of the ports {', '.join(map(str, reasons))}, each taken "
                           "by another process: " + " | ".join(f"{port}: {why}" for port, why in reasons.items()))

    def _start_once(self, timeout: float) -> str | None:
        """None once our icecast2 answers; its reason when it could not bind the port; raises on anything else."""
        self.proc = subprocess.Popen([ICECAST, "-c", str(self.config_path)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                said = self.proc.stderr.read().decode(errors="replace").strip()
                self.proc.stderr.close()
                if "Could not create listener socket" in said or _port_taken(self.config.bind_address, self.port):
                    return said[-400:] or "the port is held by another process"
                raise RuntimeError(f"icecast2 exited {self.proc.returncode}: {said[-800:]} {self.error_log()[-800:]}")
            try:
                self.admin("stats", timeout=1.0)  # another server on this port refuses our admin password
                return None
            except OSError:
                time.sleep(0.05)  # polling a condition (our server answers), with a deadline
        self.kill()
        raise RuntimeError(f"icecast2 did not answer on port {self.port} within {timeout:g} s: {self.error_log()[-800:]}")

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled plug: sources and listeners see their sockets drop."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # ------------------------------------------------------------------ addresses
    @property
    def source_password(self) -> str:
        return self.config.source_password

    def source_url(self, mount: str = "/dai.mp3", password: str | None = None) -> str:
        return f"icecast://source:{password or self.source_password}@{self.host}:{self.port}{mount}"

    def listen_url(self, mount: str = "/dai.mp3") -> str:
        return f"http://{self.host}:{self.port}{mount}"

    # ------------------------------------------------------------------ what it knows
    def status(self) -> dict:
        """Icecast's /status-json.xsl (mounts with a source, listeners)."""
        with urllib.request.urlopen(f"http://{self.host}:{self.port}/status-json.xsl", timeout=5) as r:
            raw = r.read().decode("utf-8", "replace")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise OSError(f"icecast status not JSON yet: {raw[:200]!r}") from exc

    def mounts(self) -> dict[str, dict]:
        """{mount: source stats} of the mounts that have a source now."""
        sources = self.status().get("icestats", {}).get("source") or []
        if isinstance(sources, dict):
            sources = [sources]
        out = {}
        for s in sources:
            url = s.get("listenurl", "")
            out["/" + url.split("/", 3)[-1] if url.count("/") >= 3 else url] = s
        return out

    def wait_mount(self, mount: str, timeout: float = 20.0, present: bool = True) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (mount in self.mounts()) == present:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        try:
            now = f"mounts now: {list(self.mounts())}"
        except OSError as exc:  # the server itself is gone: say so rather than fail on the message
            now = f"icecast2 does not answer ({exc}); running: {self.proc is not None and self.proc.poll() is None}"
        raise AssertionError(f"mount {mount} {'never got' if present else 'kept'} a source within {timeout:g} s; {now}")

    def admin(self, path: str, timeout: float = 5.0) -> bytes:
        req = urllib.request.Request(f"http://{self.host}:{self.port}/admin/{path}")
        req.add_header("Authorization", "Basic " + b64encode(f"admin:{self.config.admin_password}".encode()).decode())
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()

    def error_log(self) -> str:
        try:
            return (self.directory / "log" / "error.log").read_text(errors="replace")
        except OSError:
            return ""


@pytest.fixture
def icecast_server():
    if not ICECAST:
        pytest.skip("icecast2 is not installed (Debian package icecast2; the Makefile installs it for make test)")
    server = IcecastServer().start()
    try:
        yield server
    finally:
        server.cleanup()


__all__ = ["ICECAST", "IcecastServer", "free_port", "icecast_server", "replace"]
