"""Helpers every CLI command module shares: the --data-dir option, settings, the station, the
player, date and text-file options, output paths. The bottom of cli/: it imports no other CLI
module, so the command modules can all import it without a cycle."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..exceptions import InputError

if TYPE_CHECKING:  # config loads pydantic-settings: only the commands that read settings pay for it
    from ..config import Settings
    from ..station.facade import Station

class BulletinClassChoice(StrEnum):
    """The --class choices: models.BulletinClass's values, copied so `--help` needs no database layer
    (tests/cli/test_cli_startup.py keeps the two equal); ``model()`` is the stored enum."""

    normal = "thong_thuong"
    priority = "uu_tien"
    emergency = "khan_cap"

    def model(self):
        from ..models import BulletinClass

        return BulletinClass(self.value)


DataDir = Annotated[
    Optional[Path],
    typer.Option("--data-dir", help="Thư mục dữ liệu (mặc định $BROADCASTER_DATA_DIR, hoặc ./data, hoặc data/ "
                 "của thư mục dự án)."),
]


def cli_settings(ctx: typer.Context, data_dir: Path | None, *, strict: bool = True, create: bool = False,
                 **overrides) -> Settings:
    """The settings of the --data-dir given to the command, else to `broadcaster`, else the station's
    found by datadir.locate; none found: one error saying where it looked (only init, `create`, makes one)."""
    # strict: an unknown key in settings.toml stops the command; serve passes False (it keeps airing)
    from ..config import load_settings

    chosen = data_dir or (ctx.obj or {}).get("data_dir")
    return _check_stream_url(load_settings(chosen, strict=strict, create=create, **overrides), strict=strict)


def _check_stream_url(settings: Settings, *, strict: bool) -> Settings:
    """issue 14: a stream_url that cannot be used is one line without its password; a command stops,
    serve (not strict) airs without the stream and shows the line with the other settings warnings."""
    if not settings.stream_url:
        return settings
    from ..exceptions import ConfigError
    from ..streaming.urls import StreamUrlError, parse_stream_url

    try:
        parse_stream_url(settings.stream_url)
    except StreamUrlError as exc:
        line = (f"Cài đặt stream_url không hợp lệ: {exc} (trong {settings.settings_path} hoặc biến môi trường "
                "BROADCASTER_STREAM_URL)")
        if strict:
            raise ConfigError(line) from None
        settings.stream_url = None
        settings.warnings.append(f"{line}; đài phát không có luồng Icecast")
    return settings


def open_station(ctx: typer.Context, data_dir: Path | None, *, strict: bool = True, **overrides):
    """The station facade over those settings (the caller closes it)."""
    from ..station.facade import Station

    return Station.open(cli_settings(ctx, data_dir, strict=strict, **overrides))


@contextmanager
def station_for(ctx: typer.Context, data_dir: Path | None, **overrides) -> Iterator[Station]:
    """`with station_for(ctx, data_dir) as station:` the station of open_station, closed however the
    block ends (the command then prints from what it read)."""
    station = open_station(ctx, data_dir, **overrides)
    try:
        yield station
    finally:
        station.close()


JsonFlag = Annotated[bool, typer.Option("--json", help="In dạng JSON.")]


def echo_json(values: Iterable[Any]) -> None:
    """A list command's --json output: one JSON array, indented, Vietnamese text as it is (not \\u-escaped)."""
    import json

    typer.echo(json.dumps(list(values), ensure_ascii=False, indent=2))


def make_player(settings: Settings, device: str | None = None):
    """The sound-card player the settings describe (``device`` overrides output_device)."""
    from ..playout.player import Player

    return Player(
        device=device if device is not None else settings.output_device,
        sample_rate=settings.sample_rate,
        block_frames=settings.playout_block_frames,
        fade_ms=settings.fade_ms,
        silence_s=settings.silence_s,  # dead air ends an item (the slot then airs the filler)
        silence_dbfs=settings.silence_dbfs,
    )


def parse_date_option(value: str | None, what: str) -> date | None:
    """A YYYY-MM-DD option value, or one clear error naming the option ``what``."""
    from ..station.bulletins import parse_date

    return parse_date(value, what)


def read_text_file(path: Path) -> str:
    """The text of a --file option: UTF-8, within the text limit, else one clear error."""
    from ..station.documents import decode_text_file
    from ..station.texts import MAX_TEXT_CHARS

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


def local_time(dt: datetime | None, tz) -> str:
    """A stored UTC time as station-local text for tables ("" when there is none)."""
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if dt else ""
