"""`broadcaster urgent`: cut in with an urgent announcement (khẩn cấp).

When a `serve` runs on the data directory (``run/serve.json`` names it and its process is
alive), the request goes to its HTTP API with the token in ``run/api-token``; otherwise
this command opens the sound card itself and airs the announcement.

The path to a running serve lives in urgent_client.py (standard library only, used first by
the console script, entry.py); this module adds the typer command mounted by app.py and
the local playout. The station, the database and the player are imported only when the
command plays by itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..exceptions import BroadcasterError, PlayoutError, ScheduleError
from .urgent_client import (  # stdlib only: the fast path to a running serve
    SERVE_INFO,
    check_request,
    request_body,
    resolve_data_dir,
    running_serve,
    through_serve,
)


def _data_dir(option: Path | None, ctx: typer.Context | None) -> Path:
    chosen = option or ((ctx.obj or {}).get("data_dir") if ctx is not None and isinstance(ctx.obj, dict) else None)
    return resolve_data_dir(chosen)


# ---------------------------------------------------------------------- the command
def urgent_cmd(
    ctx: typer.Context,
    text: Annotated[Optional[str], typer.Option("--text", help="Nội dung thông báo khẩn cấp (đọc bằng giọng máy, không cần mạng).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Tệp ghi âm của cán bộ (MP3/WAV/M4A).")] = None,
    mic: Annotated[bool, typer.Option("--mic", help="Phát trực tiếp từ micro đến khi dừng (Ctrl+C).")] = False,
    repeat: Annotated[int, typer.Option("--repeat", help="Số lần phát thông báo.")] = 1,
    every: Annotated[
        Optional[float], typer.Option("--every", help="Phát lại mỗi MIN phút (mặc định: liền nhau, cách vài giây).")
    ] = None,
    operator: Annotated[Optional[str], typer.Option("--operator", help="Người ra lệnh (ghi vào nhật ký).")] = None,
    zone: Annotated[
        Optional[list[str]],
        typer.Option("--zone", help="Chỉ phát tới vùng này (lặp lại cho nhiều vùng; mặc định: tất cả các cụm loa)."),
    ] = None,
    data_dir: Annotated[
        Optional[Path],
        typer.Option("--data-dir", help="Thư mục dữ liệu (mặc định $BROADCASTER_DATA_DIR, hoặc ./data, hoặc data/ của thư mục dự án)."),
    ] = None,
) -> None:
    """Phát thông báo khẩn cấp ngay: ngắt chương trình, phát tín hiệu chú ý rồi thông báo."""
    check_request(text=text, file=file, mic=mic, repeat=repeat, every=every)
    directory = _data_dir(data_dir, ctx)
    body = request_body(text=text, file=file, mic=mic, repeat=repeat, every=every, operator=operator, zones=zone)
    serve = running_serve(directory)
    if serve is not None:
        through_serve(*serve, body=body, echo=typer.echo)
        return
    if body["zones"]:
        _refuse_zones_here(directory, body["zones"])
    _play_here(directory, body)


def _refuse_zones_here(directory: Path, zones: list[str]) -> None:
    """Zones are fed by the fan-out of a running serve: without one, say why not (nothing is written)."""
    from ..config import load_settings
    from ..station.urgent_zones import NO_STREAM_MESSAGE, known_zones, resolve_zones

    settings = load_settings(directory, strict=False)
    if not getattr(settings, "stream_url", None):
        raise BroadcasterError(NO_STREAM_MESSAGE)
    known: list[str] = []
    if settings.db_path.is_file():
        from ..db import make_engine

        engine = make_engine(settings.db_path)
        try:
            known = known_zones(engine)
        finally:
            engine.dispose()
    resolve_zones(zones, known)  # an unknown zone: the line names the known ones
    raise BroadcasterError("Phát theo vùng cần đài đang chạy (broadcaster serve): luồng Icecast tới các cụm loa "
                           "do đài đang chạy phát. Hãy chạy đài rồi ra lệnh lại.")


def _play_here(directory: Path, body: dict) -> None:
    """No serve runs: take the data directory's lock, open the card and air it here."""
    from ..config import load_settings
    from ..scheduling.lock import DataDirLock
    from ..station.facade import Station

    lock = DataDirLock(directory)
    try:
        lock.acquire()
    except ScheduleError as exc:
        pid = exc.fields.get("pid")
        who = f" (tiến trình {pid})" if pid else ""
        raise ScheduleError(
            f"Một đài khác đang chạy trên thư mục dữ liệu {directory}{who} nhưng không có {directory / SERVE_INFO} "
            "để gửi lệnh tới nó (đài đó chưa bật giao diện web/API?). Hãy phát khẩn cấp từ bảng điều khiển của đài "
            "đó, hoặc dừng nó rồi chạy lại lệnh này."
        ) from exc
    try:
        # an unknown key in settings.toml must not stop an emergency: warn and air (issue 10 item 8)
        settings = load_settings(directory, strict=False)
        for warning in settings.warnings:
            typer.echo(f"Cảnh báo: {warning} (dòng này bị bỏ qua)", err=True)
        station = Station.open(settings)
        try:
            _air_locally(station, body)
        finally:
            station.close()
    finally:
        lock.release()


def _air_locally(station, body: dict) -> None:
    from ..playout.player import Player

    settings = station.settings
    station.recover_interrupted()
    player = Player(
        device=settings.output_device,
        sample_rate=settings.sample_rate,
        block_frames=settings.playout_block_frames,
        fade_ms=settings.fade_ms,
    )
    def open_card() -> bool:
        # the desk asks once the request is checked (bad input writes nothing, touches no card); no card:
        # the desk logs the failed message and refuses it, and this command exits non-zero (issue 11 item 9)
        if player.is_open:
            return True
        typer.echo("Đang mở thiết bị âm thanh…")
        try:
            player.open()
        except PlayoutError as exc:
            typer.echo(f"Không mở được thiết bị âm thanh: {exc}")  # the detail; stderr gets the one Lỗi line
            return False
        return True

    desk = station.urgent_desk(player, ensure_device=open_card, say=lambda message: typer.echo(message))
    try:
        job = desk.request(
            text=body["text"], file=body["file"], mic=body["mic"], repeat=body["repeat"],
            every_min=body["every_min"], operator=body["operator"], defer_start=True,
        )
        desk.start(job)
        if body["mic"]:
            typer.echo("Nhấn Ctrl+C để dừng phát qua micro.")
        try:
            while not job.done.wait(0.2):
                pass
        except KeyboardInterrupt:
            desk.stop()
            job.done.wait(10)
    finally:
        desk.shutdown()
        player.close()
    if job.state == "failed":
        raise BroadcasterError(f"Thông báo khẩn cấp không phát được: {job.error}")


def main(argv: list[str] | None = None) -> int:
    """`python -m broadcaster.cli.urgent --text …`: the command on its own, without the rest of
    the CLI. Errors print one `Lỗi:` line."""
    import click

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")
        except (AttributeError, ValueError):
            pass
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(urgent_cmd)
    try:
        app(args=argv, standalone_mode=False, prog_name="broadcaster urgent")
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        return 130
    except BroadcasterError as exc:
        typer.echo(f"Lỗi: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:  # never a traceback
        typer.echo(f"Lỗi không mong đợi: {type(exc).__name__}: {exc}", err=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

