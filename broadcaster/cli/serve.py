"""`broadcaster serve`: run the station (OnAir on the main thread) and its web console (uvicorn in
a thread), under the data directory's lock."""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..exceptions import BroadcasterError, InputError
from .common import DataDir, cli_settings, make_player, open_station


def serve(
    ctx: typer.Context,
    host: Annotated[
        Optional[str], typer.Option("--host", help="Địa chỉ bảng điều khiển web (mặc định 127.0.0.1: chỉ máy này).")
    ] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Cổng bảng điều khiển web (mặc định 8080).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Chạy đài: phát theo lịch (trong cơ sở dữ liệu), dựng trước bản tin, tự thử lại khi mất card âm thanh,
    và bảng điều khiển web (mặc định http://127.0.0.1:8080)."""
    from ..scheduling.lock import DataDirLock

    settings = cli_settings(ctx, data_dir, strict=False)  # an unknown key: a warning, the station airs
    # the data-directory lock before anything is written (schema, recovery, api token, serve.json):
    # a second serve on this directory fails here and leaves the running one's files untouched
    lock = DataDirLock(settings.data_dir).acquire()
    try:
        from ..disk import remove_stale_parts

        # leftovers of writes a crash cut short (a render killed on a full disk) free their space
        # before SQLite needs some to open the database
        remove_stale_parts(settings.cache_dir)
        remove_stale_parts(settings.data_dir / "run")
        _serve_locked(ctx, data_dir, lock, host=host, port=port)
    finally:
        lock.release()


def _serve_locked(ctx: typer.Context, data_dir: Path | None, lock, *, host: str | None, port: int | None) -> None:
    """`serve` once the data-directory lock is held."""
    station = open_station(ctx, data_dir, strict=False)
    settings = station.settings
    host = host or settings.web_host
    port = settings.web_port if port is None else port
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port} không hợp lệ: phải từ 1 đến 65535")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for warning in settings.warnings:  # unknown keys of settings.toml: ignored, said here and on every page
        typer.echo(f"Cảnh báo: {warning} (dòng này bị bỏ qua, đài vẫn chạy)", err=True)
    if not _is_loopback(host):
        typer.echo(
            f"Cảnh báo: bảng điều khiển web nghe trên {host}: máy khác trong mạng truy cập được; "
            "chỉ dùng trong mạng tin cậy (mặc định 127.0.0.1 = chỉ máy này).",
            err=True,
        )
    # bind first: a port in use is one clear error before anything else starts
    try:
        sock = _bind_web_socket(host, port)
    except BaseException:
        station.close()
        raise
    stop = threading.Event()
    runner = station.on_air(
        player_factory=lambda: make_player(settings),
        stop=stop,
        say=lambda msg: typer.echo(msg),
        lock=lock,
    )
    web = _WebServer(station, runner, sock, host=host, port=port)
    previous_term = _on_sigterm(stop)
    typer.echo(f"Thư mục dữ liệu: {settings.data_dir.resolve()}. Nhấn Ctrl+C để dừng.")
    try:
        web.start()
        typer.echo(f"Bảng điều khiển web: {web.url}")
        _say_where_to_open(station, web.url, host)
        station.renders.resume()  # bulletins a previous run queued or left half rendered (issue 11 item 6)
        runner.run()
    except KeyboardInterrupt:
        stop.set()
        typer.echo("Đã dừng đài.")
    finally:
        stop.set()
        web.stop()
        _restore_sigterm(previous_term)
        station.close()


def _say_where_to_open(station, url: str, host: str) -> None:
    """The address an officer opens (issue 11 item 1): the one-time set-up page while there is no account."""
    from ..firstrun import needs_setup

    if host.strip("[]") in ("0.0.0.0", "::"):  # every address: this PC's own is the one to open here
        url = "http://127.0.0.1:" + url.rsplit(":", 1)[1]
    if needs_setup(station.db):
        typer.echo(f"Chưa có tài khoản nào: mở {url}/setup trong trình duyệt trên máy này để đặt tên đài và "
                   "tạo tài khoản quản trị đầu tiên.")
    else:
        typer.echo(f"Mở trình duyệt tại {url}/ để đăng nhập.")


def _is_loopback(host: str) -> bool:
    """True when `host` (an address or a name) reaches this PC only."""
    import ipaddress
    import socket

    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        return False  # the bind will say what is wrong with it
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def _bind_web_socket(host: str, port: int):
    """A listening socket for the console, or one clear error (port in use, bad address)."""
    import socket

    from ..exceptions import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"Địa chỉ web '{host}' không hợp lệ: {exc.strerror}") from exc
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY: asyncio sets it only when proto is TCP
    if sys.platform != "win32":  # Windows' SO_REUSEADDR would let two servers share the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        import errno

        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise ConfigError(
                f"Cổng {port} trên {host} đang được chương trình khác dùng (có thể đài đã chạy rồi); "
                f"chọn cổng khác bằng --port"
            ) from exc
        raise ConfigError(f"Không mở được cổng web {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def _on_sigterm(stop: threading.Event):
    """SIGTERM (systemd, `kill`) stops the station like Ctrl+C: cleanly, removing serve.json.

    Ctrl+C (SIGINT) is made to work too when serve was started with it ignored (a script's
    `broadcaster serve &` without job control hands it over ignored): it raises KeyboardInterrupt
    as Python's own handler does, so the station stops the same way."""
    import signal

    def handler(_signum, _frame):
        stop.set()

    try:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # not the main thread (tests calling run() in a thread)
        return None


def _restore_sigterm(previous) -> None:
    import signal

    if previous is not None:
        try:
            signal.signal(signal.SIGTERM, previous)
        except (ValueError, OSError):
            pass


class _WebServer:
    """uvicorn in a thread next to OnAir (which owns the main thread and the sound card).

    Writes <data_dir>/run/serve.json {"url", "pid"} once it listens; removes it on stop."""

    def __init__(self, station, onair, sock, *, host: str, port: int) -> None:
        import uvicorn

        from ..web.app import create_app

        self.sock = sock
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{sock.getsockname()[1] if port == 0 else port}"
        self.info_path = station.settings.data_dir / "run" / "serve.json"
        from ..db import make_engine

        # the console's own connections: however busy it gets, playout, the timetable and the
        # urgent desk (the station's engine) never wait for one of these
        slots = station.settings.web_max_concurrent
        self.engine = make_engine(station.settings.db_path, pool_size=slots + 4, max_overflow=slots, pool_timeout=20)
        app = create_app(station.over_engine(self.engine), onair=onair)
        # X-Forwarded-For/-Proto are believed only from a proxy the settings name: uvicorn's default
        # (trust 127.0.0.1) lets any local client pick its address (the login limit) and https
        trusted = station.settings.web_trusted_proxy
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off",
            proxy_headers=bool(trusted), forwarded_allow_ips=",".join(trusted) if trusted else None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="web", daemon=True)
        self.failed: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # reported by start()/the log; the station keeps airing
            self.failed = exc
            logging.getLogger(__name__).exception("web console stopped")

    def start(self, timeout: float = 15.0) -> None:
        import os
        import time

        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self.failed is not None or not self.thread.is_alive():
                raise BroadcasterError(f"Không chạy được bảng điều khiển web: {self.failed}")
            if time.monotonic() > deadline:
                raise BroadcasterError("Bảng điều khiển web không khởi động kịp")
            time.sleep(0.05)
        from ..disk import write_atomic

        self.info_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.info_path, json.dumps({"url": self.url, "pid": os.getpid()}))

    def stop(self) -> None:
        import os

        try:  # only our own file: a second serve on another port must not erase the first one's
            if json.loads(self.info_path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                self.info_path.unlink()
        except (OSError, ValueError):
            pass
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        try:
            self.sock.close()
        except OSError:
            pass
        self.engine.dispose()
