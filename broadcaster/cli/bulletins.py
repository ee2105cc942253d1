"""`broadcaster bulletin add | list` and `broadcaster render`: bulletins and their audio."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..exceptions import InputError
from ..localtime import duration_words
from .common import (BulletinClassChoice, DataDir, check_output_path, cli_settings, open_station, parse_date_option,
                     read_text_file)

bulletin_app = typer.Typer(help="Bản tin: thêm, nhập từ Word, xem danh sách.", no_args_is_help=True)


@bulletin_app.command("add")
def bulletin_add(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="Tiêu đề bản tin.")],
    text: Annotated[Optional[str], typer.Option("--text", help="Nội dung bản tin.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Tệp văn bản UTF-8 chứa nội dung.")] = None,
    recording: Annotated[Optional[Path], typer.Option(
        "--recording", help="Tệp ghi âm của cán bộ (M4A/MP4 từ điện thoại, MP3, WAV, OGG): phát thay giọng máy.",
    )] = None,
    approve: Annotated[bool, typer.Option("--approve", help="Duyệt ngay và dựng âm thanh trước.")] = False,
    bulletin_class: Annotated[
        BulletinClassChoice, typer.Option("--class", help="Loại tin: thong_thuong, uu_tien, khan_cap.")
    ] = BulletinClassChoice.normal,
    valid_from: Annotated[Optional[str], typer.Option("--from", help="Phát từ ngày (YYYY-MM-DD).")] = None,
    valid_until: Annotated[Optional[str], typer.Option("--until", help="Phát đến ngày (YYYY-MM-DD).")] = None,
    voice: Annotated[Optional[str], typer.Option(
        "--voice", help="Giọng đọc máy:giọng, vd. edge:vi-VN-NamMinhNeural (mặc định: giọng của đài).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Thêm bản tin; in ra số của bản tin mới."""
    if text is not None and file is not None:
        raise InputError("Cần đúng một trong hai: --text hoặc --file")
    if text is None and file is None and recording is None:
        raise InputError("Cần một trong: --text, --file hoặc --recording")
    body = text if text is not None else read_text_file(file) if file is not None else ""
    station = open_station(ctx, data_dir)
    bulletin = station.add_bulletin(
        title=title,
        text=body,
        recording=recording,
        approve=approve,
        bulletin_class=bulletin_class.model(),
        valid_from=parse_date_option(valid_from, "--from"),
        valid_until=parse_date_option(valid_until, "--until"),
        voice=voice,
    )
    typer.echo(bulletin.id)
    if bulletin.render_error:
        typer.echo(f"Cảnh báo: chưa dựng được âm thanh: {bulletin.render_error}", err=True)


@bulletin_app.command("import")
def bulletin_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Tệp Word .docx (văn bản của xã: kế hoạch, thông báo…).")],
    title: Annotated[Optional[str], typer.Option("--title", help="Tiêu đề (mặc định: tiêu đề của văn bản).")] = None,
    keep_all: Annotated[bool, typer.Option(
        "--keep-all", help="Giữ cả phần thường không đọc (số, nơi nhận, chữ ký…).")] = False,
    bulletin_class: Annotated[
        BulletinClassChoice, typer.Option("--class", help="Loại tin: thong_thuong, uu_tien, khan_cap.")
    ] = BulletinClassChoice.normal,
    data_dir: DataDir = None,
) -> None:
    """Nhập một tệp Word .docx thành bản nháp; in ra số của bản tin mới và những phần đã bỏ."""
    from ..station import documents

    if file.suffix.lower() != ".docx":
        raise InputError(f"Chỉ nhập được tệp Word .docx: {file.name}")
    if not file.is_file():
        raise InputError(f"Không tìm thấy tệp: {file}")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"Không đọc được tệp {file}: {exc.strerror or exc}") from exc
    imported = documents.read_docx(data)
    station = open_station(ctx, data_dir)
    bulletin = station.add_bulletin(title=title or imported.title,
                                    text=imported.with_everything() if keep_all else imported.text,
                                    bulletin_class=bulletin_class.model())
    typer.echo(bulletin.id)
    if imported.dropped and not keep_all:
        typer.echo("Đã bỏ, không đọc trên loa (thêm --keep-all để giữ lại):", err=True)
        for part in imported.dropped:
            typer.echo(f"  [{part.reason}] " + " / ".join(part.text.splitlines()), err=True)


@bulletin_app.command("list")
def bulletin_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Danh sách bản tin."""
    station = open_station(ctx, data_dir)
    bulletins = station.list_bulletins()
    if as_json:
        typer.echo(json.dumps([b.model_dump(mode="json") for b in bulletins], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from ..models import CLASS_LABELS, STATUS_LABELS

    table = Table("Số", "Tiêu đề", "Loại", "Trạng thái", "Hiệu lực", "Âm thanh")
    for b in bulletins:
        span = f"{b.valid_from or '…'} → {b.valid_until or '…'}"
        voice = "giọng thu" if b.item_engine == "recording" else b.item_engine
        audio = f"{duration_words(b.item_duration_s)} ({voice})" if b.item_duration_s else (b.render_error or "")
        table.add_row(str(b.id), b.title, CLASS_LABELS[b.bulletin_class], STATUS_LABELS[b.status], span, audio)
    Console().print(table)


def render(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("-o", "--out", help="Tệp WAV đầu ra.")],
    bulletin: Annotated[Optional[int], typer.Option("--bulletin", help="Số bản tin.")] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="Văn bản cần đọc.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Tệp văn bản UTF-8 cần đọc.")] = None,
    engine: Annotated[
        Optional[str], typer.Option("--engine", help="gtts, espeak hoặc piper (không thử máy khác).")
    ] = None,
    no_jingles: Annotated[bool, typer.Option("--no-jingles", help="Không chèn nhạc hiệu.")] = False,
    show_text: Annotated[bool, typer.Option("--show-text", help="In văn bản sẽ được đọc.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Dựng một bản tin hoặc một đoạn văn bản thành tệp WAV (nhạc hiệu + giọng đọc, âm lượng chuẩn)."""
    if sum(x is not None for x in (bulletin, text, file)) != 1:
        raise InputError("Cần đúng một trong: --bulletin, --text hoặc --file")
    from ..config import KNOWN_ENGINES

    if engine is not None and engine not in KNOWN_ENGINES:
        raise InputError(f"Máy đọc '{engine}' không có; chọn {', '.join(KNOWN_ENGINES)}")
    check_output_path(out)
    if file is not None:
        text = read_text_file(file)
    station = None
    if text is not None:
        from ..station.texts import check_text_length

        check_text_length(text)
        # a text needs only the settings, the lexicon, the engines and the render cache: the station's
        # one renderer without its database (issue 13: the command starts without the ORM)
        from ..dbcopy import private_dir
        from ..station.renderer import Renderer

        settings = cli_settings(ctx, data_dir)
        private_dir(settings.data_dir)  # one made here is owner-only (0700), as init makes it
        renderer, voice = Renderer(settings=settings), None
    else:  # a bulletin's text and chosen voice are in the database
        renderer = station = open_station(ctx, data_dir)
    try:
        recording = None
        if station is not None:
            stored = station.get_bulletin(bulletin)
            text, voice, recording = stored.text, stored.voice, stored.recording_path
            if recording and engine is not None:
                raise InputError(f"Bản tin số {bulletin} phát tệp ghi âm của cán bộ, không đọc bằng máy: bỏ --engine")
        with _progress_bar() as progress:
            if recording:  # what the slot airs: the officer's recording in the jingles
                outcome = station.render_recording(Path(recording), out=out, jingles=not no_jingles,
                                                   progress=progress)
            else:
                outcome = renderer.render_text(text, out=out, engine=engine, jingles=not no_jingles, voice=voice,
                                               progress=progress)
    finally:
        if station is not None:
            station.close()
    if show_text:
        typer.echo(outcome.spoken_text)
    for failure in outcome.failures:
        typer.echo(f"Cảnh báo: {failure}", err=True)
    typer.echo(
        f"Đã dựng {outcome.path}: {duration_words(outcome.duration_s)}, {outcome.integrated_lufs:.1f} LUFS, "
        f"đỉnh {outcome.true_peak_dbtp:.1f} dBTP, "
        + ("giọng thu của cán bộ" if outcome.engine == "recording" else f"giọng {outcome.engine}"),
        err=True,
    )


@contextmanager
def _progress_bar() -> Iterator[Callable[[float], None] | None]:
    """A progress bar on stderr (share done, time left) while a render runs, when stderr is a terminal;
    yields the callback to hand the render (None without a terminal: nothing to draw on)."""
    if not _may_be_a_terminal():  # rich itself (~0.05 s to import) is loaded only when it may draw
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn  # drawing

    columns = (TextColumn("Đang dựng"), BarColumn(), TaskProgressColumn(), TextColumn("còn"),
               TimeRemainingColumn(elapsed_when_finished=False))
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("render", total=1.0)
        yield lambda fraction: bar.update(task, completed=fraction)


def _may_be_a_terminal() -> bool:
    """False only where rich's Console would not call stderr a terminal either: it says yes only for
    a tty, TTY_COMPATIBLE=1 or a non-empty FORCE_COLOR (rich/console.py, Console.is_terminal). Where
    this says True, rich has the last word."""
    import os
    import sys

    try:
        tty = sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr, or a closed one
        tty = False
    return tty or os.environ.get("TTY_COMPATIBLE") == "1" or bool(os.environ.get("FORCE_COLOR"))
