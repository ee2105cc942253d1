"""Command line for administrators: thin typer commands over service.Station.

Every error the project raises on purpose prints one line (``Lỗi: …``) on stderr and
exits non-zero; anything unexpected does too, never with a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import click
import typer

from .config import Settings, load_settings
from .exceptions import BroadcasterError, InputError, ScheduleError, plain_message
from .models import CLASS_LABELS, STATUS_LABELS, BulletinClass

app = typer.Typer(
    help="broadcaster — phần mềm tự động phát thanh cho đài truyền thanh xã.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
bulletin_app = typer.Typer(help="Bản tin: thêm, xem danh sách.", no_args_is_help=True)
app.add_typer(bulletin_app, name="bulletin")

DataDir = Annotated[
    Optional[Path],
    typer.Option("--data-dir", help="Thư mục dữ liệu (mặc định ./data hoặc $BROADCASTER_DATA_DIR)."),
]


def _mount_speech_apps() -> None:
    try:
        from .cli_speech import lexicon_app, speech_app
    except ImportError:  # pragma: no cover - the reading layer ships with the package
        return
    app.add_typer(speech_app, name="speech", help="Lớp đọc: xem văn bản sẽ được đọc thế nào.")
    app.add_typer(lexicon_app, name="lexicon", help="Từ điển viết tắt và cách đọc riêng của đài.")
    from .cli_schedule import program_cmd, schedule_app

    app.add_typer(schedule_app, name="schedule", help="Lịch phát: xem, thêm, xóa, nhập, xuất.")
    app.command("program")(program_cmd)
    # urgent announcements (cli_urgent.py) and web-console accounts (cli_users.py)
    try:
        from .cli_urgent import urgent_cmd
    except ImportError:  # not written yet
        pass
    else:
        app.command("urgent")(urgent_cmd)
    try:
        from .cli_users import user_app
    except ImportError:  # not written yet
        pass
    else:
        app.add_typer(user_app, name="user", help="Tài khoản bảng điều khiển web.")
    from .cli_backup import backup_app

    app.add_typer(backup_app, name="backup", help="Sao lưu và khôi phục cơ sở dữ liệu.")


_mount_speech_apps()


@app.callback()
def _root(ctx: typer.Context, data_dir: DataDir = None) -> None:
    ctx.obj = {"data_dir": data_dir}


def _settings(ctx: typer.Context, data_dir: Path | None, *, strict: bool = True, **overrides) -> Settings:
    # strict: an unknown key in settings.toml stops the command; serve passes False (it keeps airing)
    chosen = data_dir or (ctx.obj or {}).get("data_dir")
    return load_settings(chosen, strict=strict, **overrides)


def _station(ctx: typer.Context, data_dir: Path | None, *, strict: bool = True, **overrides):
    from .service import Station

    return Station.open(_settings(ctx, data_dir, strict=strict, **overrides))


def _player(settings: Settings, device: str | None = None):
    from .playout.player import Player

    return Player(
        device=device if device is not None else settings.output_device,
        sample_rate=settings.sample_rate,
        block_frames=settings.playout_block_frames,
        fade_ms=settings.fade_ms,
        silence_s=settings.silence_s,  # dead air ends an item (the slot then airs the filler)
        silence_dbfs=settings.silence_dbfs,
    )


def _parse_date(value: str | None, what: str) -> date | None:
    from .editorial import parse_date

    return parse_date(value, what)


def _read_text_file(path: Path) -> str:
    from .editorial import MAX_TEXT_CHARS, decode_text_file

    try:
        if not path.is_file():
            raise InputError(f"Không đọc được tệp {path}: không có tệp này")
        if path.stat().st_size > MAX_TEXT_CHARS * 4 + 4:  # more bytes than the longest text can take
            raise InputError(f"Tệp {path} dài quá {MAX_TEXT_CHARS} ký tự")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Không đọc được tệp {path}: {exc.strerror or exc}") from exc
    return decode_text_file(raw, str(path))


def check_output_path(out: Path) -> Path:
    """An output file may be a new file in an existing folder or an existing regular file: never a
    device node, a pipe, a folder, or a folder that does not exist (issue 9 item 9)."""
    import os
    import stat

    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"Không dùng được tệp đầu ra {out}: {exc.strerror or exc}") from exc
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(f"'{out}' là một thư mục; hãy cho tên tệp .wav")
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(f"'{out}' không phải tệp thường (thiết bị, ống dẫn…); hãy cho tên một tệp")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"Thư mục '{parent}' không có; tạo nó trước hoặc chọn chỗ khác")
    return out


def _local(dt: datetime | None, tz) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if dt else ""


# ---------------------------------------------------------------------- commands
@app.command()
def init(ctx: typer.Context, data_dir: DataDir = None) -> None:
    """Chuẩn bị thư mục dữ liệu (chạy lại nhiều lần không sao)."""
    from .service import init_data_dir

    settings = _settings(ctx, data_dir)
    created = init_data_dir(settings)
    for item in created:
        typer.echo(f"Đã tạo {item}")
    typer.echo(f"Thư mục dữ liệu sẵn sàng: {settings.data_dir.resolve()}")


@bulletin_app.command("add")
def bulletin_add(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="Tiêu đề bản tin.")],
    text: Annotated[Optional[str], typer.Option("--text", help="Nội dung bản tin.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Tệp văn bản UTF-8 chứa nội dung.")] = None,
    approve: Annotated[bool, typer.Option("--approve", help="Duyệt ngay và dựng âm thanh trước.")] = False,
    bulletin_class: Annotated[
        BulletinClass, typer.Option("--class", help="Loại tin: thong_thuong, uu_tien, khan_cap.")
    ] = BulletinClass.normal,
    valid_from: Annotated[Optional[str], typer.Option("--from", help="Phát từ ngày (YYYY-MM-DD).")] = None,
    valid_until: Annotated[Optional[str], typer.Option("--until", help="Phát đến ngày (YYYY-MM-DD).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Thêm bản tin; in ra số của bản tin mới."""
    if (text is None) == (file is None):
        raise InputError("Cần đúng một trong hai: --text hoặc --file")
    body = text if text is not None else _read_text_file(file)
    station = _station(ctx, data_dir)
    bulletin = station.add_bulletin(
        title=title,
        text=body,
        approve=approve,
        bulletin_class=bulletin_class,
        valid_from=_parse_date(valid_from, "--from"),
        valid_until=_parse_date(valid_until, "--until"),
    )
    typer.echo(bulletin.id)
    if bulletin.render_error:
        typer.echo(f"Cảnh báo: chưa dựng được âm thanh: {bulletin.render_error}", err=True)


@bulletin_app.command("list")
def bulletin_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Danh sách bản tin."""
    station = _station(ctx, data_dir)
    bulletins = station.list_bulletins()
    if as_json:
        typer.echo(json.dumps([b.model_dump(mode="json") for b in bulletins], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("Số", "Tiêu đề", "Loại", "Trạng thái", "Hiệu lực", "Âm thanh")
    for b in bulletins:
        span = f"{b.valid_from or '…'} → {b.valid_until or '…'}"
        audio = f"{b.item_duration_s:.0f} s ({b.item_engine})" if b.item_duration_s else (b.render_error or "")
        table.add_row(str(b.id), b.title, CLASS_LABELS[b.bulletin_class], STATUS_LABELS[b.status], span, audio)
    Console().print(table)


@app.command()
def render(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("-o", "--out", help="Tệp WAV đầu ra.")],
    bulletin: Annotated[Optional[int], typer.Option("--bulletin", help="Số bản tin.")] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="Văn bản cần đọc.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Tệp văn bản UTF-8 cần đọc.")] = None,
    engine: Annotated[Optional[str], typer.Option("--engine", help="gtts hoặc espeak (không thử máy khác).")] = None,
    no_jingles: Annotated[bool, typer.Option("--no-jingles", help="Không chèn nhạc hiệu.")] = False,
    show_text: Annotated[bool, typer.Option("--show-text", help="In văn bản sẽ được đọc.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Dựng một bản tin hoặc một đoạn văn bản thành tệp WAV (nhạc hiệu + giọng đọc, âm lượng chuẩn)."""
    if sum(x is not None for x in (bulletin, text, file)) != 1:
        raise InputError("Cần đúng một trong: --bulletin, --text hoặc --file")
    if engine is not None and engine not in ("gtts", "espeak"):
        raise InputError(f"Máy đọc '{engine}' không có; chọn gtts hoặc espeak")
    check_output_path(out)
    if file is not None:
        text = _read_text_file(file)
    if text is not None:
        from .editorial import check_text_length

        check_text_length(text)
    station = _station(ctx, data_dir)
    body = station.get_bulletin(bulletin).text if bulletin is not None else text
    outcome = station.render_text(body, out=out, engine=engine, jingles=not no_jingles)
    if show_text:
        typer.echo(outcome.spoken_text)
    for failure in outcome.failures:
        typer.echo(f"Cảnh báo: {failure}", err=True)
    typer.echo(
        f"Đã dựng {outcome.path}: {outcome.duration_s:.1f} s, {outcome.integrated_lufs:.1f} LUFS, "
        f"đỉnh {outcome.true_peak_dbtp:.1f} dBTP, giọng {outcome.engine}",
        err=True,
    )


def _recover_unless_serve_runs(station) -> None:
    """Rows left on air by a crash become interrupted, but only when no serve holds the data
    directory: while one runs, its rows on air are really on air."""
    from .scheduling.lock import DataDirLock

    lock = DataDirLock(station.settings.data_dir)
    try:
        lock.acquire()
    except ScheduleError:
        return
    try:
        station.recover_interrupted()
    finally:
        lock.release()


@app.command()
def play(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Tệp âm thanh WAV đã dựng.")],
    device: Annotated[Optional[str], typer.Option("--device", help="Thiết bị âm thanh (số hoặc tên).")] = None,
    title: Annotated[Optional[str], typer.Option("--title", help="Tên ghi vào nhật ký phát.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Phát một tệp qua card âm thanh, ghi nhật ký phát, chờ phát xong."""
    if not file.is_file():
        raise InputError(f"Không tìm thấy tệp: {file}")
    station = _station(ctx, data_dir)
    _recover_unless_serve_runs(station)
    player = _player(station.settings, device)
    try:
        row = station.play_file(file, player=player, title=title or file.name)
    finally:
        player.close()
    message = f"{row.title}: {STATUS_LABELS[row.status]} ({row.duration_s or 0:.1f} s)"
    if row.status != "aired":
        typer.echo(f"Lỗi: {message} — {row.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(message)


@app.command("log")
def log_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    since: Annotated[Optional[str], typer.Option("--since", help="Từ ngày (YYYY-MM-DD).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Nhật ký phát sóng (as-run log)."""
    station = _station(ctx, data_dir)
    rows = station.as_run_log(since=_parse_date(since, "--since"))
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("Số", "Bắt đầu", "Kết thúc", "Tiêu đề", "Khung giờ", "Trạng thái", "Giọng", "Lý do")
    for r in rows:
        table.add_row(
            str(r.id), _local(r.started_at, station.tz), _local(r.ended_at, station.tz), r.title,
            r.slot or "", STATUS_LABELS[r.status], r.engine or "", r.reason or "",
        )
    Console().print(table)


@app.command()
def devices(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    """Liệt kê thiết bị âm thanh đầu ra (chọn bằng output_device trong settings.toml)."""
    from dataclasses import asdict

    from .playout.devices import list_devices

    found = list_devices()
    if as_json:
        typer.echo(json.dumps([asdict(d) for d in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo("Không tìm thấy thiết bị âm thanh đầu ra nào.")
        return
    for d in found:
        mark = "*" if d.is_default else " "
        typer.echo(f"{mark} {d.index:>3}  {d.name}  ({d.hostapi}, {d.max_output_channels} kênh)")


@app.command()
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
    from .scheduling.lock import DataDirLock

    settings = _settings(ctx, data_dir, strict=False)  # an unknown key: a warning, the station airs
    # the data-directory lock before anything is written (schema, recovery, api token, serve.json):
    # a second serve on this directory fails here and leaves the running one's files untouched
    lock = DataDirLock(settings.data_dir).acquire()
    try:
        from .disk import remove_stale_parts

        # leftovers of writes a crash cut short (a render killed on a full disk) free their space
        # before SQLite needs some to open the database
        remove_stale_parts(settings.cache_dir)
        remove_stale_parts(settings.data_dir / "run")
        _serve_locked(ctx, data_dir, lock, host=host, port=port)
    finally:
        lock.release()


def _serve_locked(ctx: typer.Context, data_dir: Path | None, lock, *, host: str | None, port: int | None) -> None:
    """`serve` once the data-directory lock is held."""
    from .station.runtime import OnAir

    station = _station(ctx, data_dir, strict=False)
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
    runner = OnAir(
        station,
        player_factory=lambda: _player(settings),
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
        runner.run()
    except KeyboardInterrupt:
        stop.set()
        typer.echo("Đã dừng đài.")
    finally:
        stop.set()
        web.stop()
        _restore_sigterm(previous_term)
        station.close()


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

    from .exceptions import ConfigError

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
    """SIGTERM (systemd, `kill`) stops the station like Ctrl+C: cleanly, removing serve.json."""
    import signal

    def handler(_signum, _frame):
        stop.set()

    try:
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

        from .web.app import create_app

        self.sock = sock
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{sock.getsockname()[1] if port == 0 else port}"
        self.info_path = station.settings.data_dir / "run" / "serve.json"
        from .db import make_engine

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
        from .disk import write_atomic

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


# ------------------------------------------------------------------------- entry
def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code; errors become one line on stderr."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")
        except (AttributeError, ValueError):
            pass
    try:
        result = app(args=argv, standalone_mode=False, prog_name="broadcaster")
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        typer.echo("Đã hủy.", err=True)
        return 130
    except KeyboardInterrupt:
        return 130
    except BroadcasterError as exc:
        # one line per problem (a settings file may have several), never library internals
        lines = [plain_message(line) for line in str(exc).splitlines()]
        for line in [line for line in lines if line] or ["lỗi không rõ"]:
            typer.echo(f"Lỗi: {line}", err=True)
        return exc.exit_code
    except Exception as exc:  # the promise: never a traceback to the user
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        from .disk import is_disk_error

        if is_disk_error(exc):  # SQLite or a file write on a full disk: say that, in one line
            typer.echo("Lỗi: ổ đĩa chứa dữ liệu đài đầy hoặc lỗi, không ghi được; hãy giải phóng dung lượng rồi "
                       "chạy lại", err=True)
            return 2
        typer.echo(f"Lỗi không mong đợi: {type(exc).__name__}: {plain_message(exc) or '-'}", err=True)
        return 2
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
