"""`broadcaster receiver`: run a loudspeaker cluster (cụm loa) that plays the station's stream."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DataDir, cli_settings

TOKEN_ENV = "BROADCASTER_RECEIVER_TOKEN"


def receiver_cmd(
    ctx: typer.Context,
    station: Annotated[str, typer.Option("--station", help="Địa chỉ của đài, dạng http://MÁY:CỔNG (bảng điều "
                                         "khiển web của đài).")],
    name: Annotated[str, typer.Option("--name", help="Tên cụm loa, đúng như đã đăng ký ở đài.")],
    token: Annotated[Optional[str], typer.Option("--token", envvar=TOKEN_ENV, show_envvar=False,
                                                 help=f"Mã cụm loa do `broadcaster receivers add` in ra (hoặc biến "
                                                 f"môi trường {TOKEN_ENV}, để mã không hiện trong danh sách tiến "
                                                 "trình).")] = None,
    zone: Annotated[Optional[str], typer.Option("--zone", help="Vùng của cụm loa (đài quyết định; khác thì cụm "
                                                "loa báo và nghe theo đài).")] = None,
    dead_air_s: Annotated[Optional[float], typer.Option("--dead-air-s", help="Im lặng bao nhiêu giây thì ghi "
                                                        "gián đoạn «luồng im lặng» (mặc định receiver_dead_air_s).")
                          ] = None,
    volume: Annotated[Optional[float], typer.Option("--volume", help="Âm lượng 0-1.5 (mặc định "
                                                    "receiver_volume).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Chạy cụm loa: nghe luồng của đài qua Icecast và phát ra card âm thanh của máy này, tự nối lại khi mất
    kết nối, ghi nhật ký riêng (xem bằng `broadcaster log --data-dir …`) và báo trạng thái về đài."""
    import logging
    import signal

    from ..receiver.api import OptionError, check_options

    options = check_options(station=station, token=token, name=name, zone=zone)  # before anything is written
    overrides = {k: v for k, v in (("receiver_dead_air_s", dead_air_s), ("receiver_volume", volume)) if v is not None}
    settings = cli_settings(ctx, data_dir, create=True, **overrides)  # the receiver's own data directory
    _refuse_station_dir(settings.data_dir)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from ..exceptions import ScheduleError
    from ..scheduling.lock import DataDirLock
    from ..station.facade import init_data_dir

    init_data_dir(settings)  # a broadcaster data directory (create_all like `init`): `log` reads it
    try:
        lock = DataDirLock(settings.data_dir).acquire()
    except ScheduleError:
        raise OptionError(f"Một cụm loa (hoặc đài) đang chạy ở thư mục dữ liệu {settings.data_dir}; mỗi cụm loa "
                          "một thư mục") from None
    try:
        receiver = _build(settings, options)
        # SIGTERM (systemd) and Ctrl+C stop it cleanly: rows closed, a last report, the card closed
        previous = {sig: signal.signal(sig, lambda *_: receiver.stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
        typer.echo(f"Cụm loa «{options.name}» nghe đài {options.station}; thư mục dữ liệu "
                   f"{settings.data_dir.resolve()}. Nhấn Ctrl+C để dừng.")
        try:
            refused = receiver.run_until_interrupted()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        lock.release()
    if refused is not None:
        raise refused
    typer.echo("Đã dừng cụm loa.")


def _refuse_station_dir(data_dir: Path) -> None:
    """A station's data directory (it has an as-run log, and is no receiver's) is never a receiver's."""
    import sqlite3

    from ..receiver.api import OptionError
    from ..receiver.journal import is_receiver_dir

    db = data_dir / "broadcaster.db"
    if not db.is_file() or is_receiver_dir(data_dir):
        return
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT COUNT(*) FROM as_run").fetchone()[0]
    except sqlite3.Error:
        return  # no as_run table yet: a directory `init` just made
    if rows:
        raise OptionError(f"Thư mục dữ liệu {data_dir} là của một đài (đã có nhật ký phát); cụm loa cần thư mục "
                          "riêng: chỉ rõ bằng --data-dir")


def _build(settings, options):
    from ..db import make_engine
    from ..playout.devices import reinitialize_portaudio
    from ..playout.live import StreamSource
    from ..playout.player import Player
    from ..receiver.journal import ReceiverJournal
    from ..receiver.runner import STALL_S, Receiver, ReceiverParts

    player = Player(device=settings.output_device, sample_rate=settings.sample_rate,
                    block_frames=settings.playout_block_frames, fade_ms=settings.fade_ms,
                    silence_s=None)  # dead air is logged by the receiver, never cut
    rate = settings.sample_rate
    parts = ReceiverParts(
        options=options, data_dir=settings.data_dir, journal=ReceiverJournal(engine=make_engine(settings.db_path)),
        player=player,
        source_factory=lambda url: StreamSource(url, sample_rate=rate, stall_s=STALL_S, low_latency=True),
        dead_air_s=settings.receiver_dead_air_s, volume=settings.receiver_volume,
        silence_dbfs=settings.silence_dbfs, sample_rate=rate, device_retry_s=settings.device_retry_s,
        reinitialize=reinitialize_portaudio if player.uses_portaudio else None,
        say=lambda line: typer.echo(line),
    )
    return Receiver(parts)
