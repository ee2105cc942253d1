"""`broadcaster play` and `broadcaster devices`: the sound card from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..exceptions import InputError, ScheduleError
from .common import DataDir, make_player, open_station


def _recover_unless_serve_runs(station) -> None:
    """Rows left on air by a crash become interrupted, but only when no serve holds the data
    directory: while one runs, its rows on air are really on air."""
    from ..scheduling.lock import DataDirLock

    lock = DataDirLock(station.settings.data_dir)
    try:
        lock.acquire()
    except ScheduleError:
        return
    try:
        station.recover_interrupted()
    finally:
        lock.release()


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
    station = open_station(ctx, data_dir)
    _recover_unless_serve_runs(station)
    player = make_player(station.settings, device)
    try:
        row = station.play_file(file, player=player, title=title or file.name)
    finally:
        player.close()
    from ..localtime import duration_words
    from ..models import STATUS_LABELS

    message = f"{row.title}: {STATUS_LABELS[row.status]} ({duration_words(row.duration_s or 0)})"
    if row.status != "aired":
        typer.echo(f"Lỗi: {message} — {row.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(message)


def devices(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    """Liệt kê thiết bị âm thanh đầu ra (chọn bằng output_device trong settings.toml)."""
    from dataclasses import asdict

    from ..playout.devices import list_devices

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
