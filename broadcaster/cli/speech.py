"""CLI commands of the reading layer, as two typer apps the main CLI mounts.

``speech_app``:  ``normalize [TEXT]`` prints what will be said. Without TEXT, or with "-", it
reads standard input and writes exactly one line per input line, in order, flushed each time, so
another program can drive it line by line. ``check [TEXT]`` (stdin likewise) prints, for every
token the reading layer does not know and will spell, ``LINE<TAB>TOKEN<TAB>how it will be read``.

``lexicon_app``: ``add WRITTEN SPOKEN``, ``remove WRITTEN``, ``list [--json]`` edit and show the
station lexicon ``<data_dir>/lexicon.tsv``.

Errors print one line "Lỗi: …" on stderr and exit 1; stdout is UTF-8 whatever the locale.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..datadir import locate
from ..exceptions import BroadcasterError

if TYPE_CHECKING:  # the reading layer loads in the commands that read (issue 13 item 3: `--help` stays light)
    from ..speech.lexicon import Lexicon

speech_app = typer.Typer(help="Đọc văn bản: xem máy sẽ đọc thế nào.", no_args_is_help=True)
lexicon_app = typer.Typer(help="Từ điển viết tắt của đài.", no_args_is_help=True)

DataDirOption = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir",
        help="Thư mục dữ liệu (mặc định: $BROADCASTER_DATA_DIR hoặc ./data).",
        show_default=False,
    ),
]


def _utf8_streams() -> None:
    # A Windows console or a C locale would otherwise garble (or refuse) Vietnamese text.
    # errors="replace": a stray byte in a pasted bulletin must cost one character, not a traceback.
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Lỗi: {message}", err=True)
    return typer.Exit(code=1)


def _lexicon_path(data_dir: Path | None, *, writing: bool = False) -> Path:
    # Settings.lexicon_path's convention, without loading pydantic-settings (issue 13 item 3; a test keeps
    # the two equal). writing: the station's data directory must exist (found or given); never a fresh
    # ./data (issue 11 item 2)
    return locate(data_dir, create=not writing) / "lexicon.tsv"


def _load(data_dir: Path | None, *, writing: bool = False) -> Lexicon:
    from ..speech.lexicon import Lexicon

    lexicon = Lexicon.load(_lexicon_path(data_dir, writing=writing))
    for problem in lexicon.problems:
        typer.echo(f"Cảnh báo: {problem}", err=True)
    return lexicon


def _answer_lines(text: str | None, data_dir: Path | None, answer: Callable[[int, str, Lexicon], str]) -> None:
    """What `speech normalize` and `speech check` share: TEXT as one line, or (None or "-") every line of
    stdin, each answered in order (answer(line number, line, lexicon): what to print for it) and flushed
    at once, so another program can drive the command line by line. A reader that goes away (`| head`)
    ends it quietly; a BroadcasterError is one "Lỗi: …" line."""
    _utf8_streams()
    try:
        lexicon = _load(data_dir)
        lines = [text] if text is not None and text != "-" else (line.rstrip("\r\n") for line in sys.stdin)
        for number, line in enumerate(lines, start=1):
            sys.stdout.write(answer(number, line, lexicon))
            sys.stdout.flush()
    except BroadcasterError as exc:
        raise _fail(str(exc)) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from complaining at exit.
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        raise typer.Exit(code=0) from None


@speech_app.callback()
def _speech() -> None:
    """Đọc văn bản: xem máy sẽ đọc thế nào."""


@speech_app.command("normalize")
def normalize_command(
    text: Annotated[Optional[str], typer.Argument(help="Văn bản; '-' hoặc bỏ trống: đọc từ stdin.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """In ra đúng những gì sẽ được đọc."""
    from ..speech.normalize import normalize

    _answer_lines(text, data_dir, lambda number, line, lexicon: normalize(line, lexicon) + "\n")


@speech_app.command("check")
def check_command(
    text: Annotated[Optional[str], typer.Argument(help="Văn bản; '-' hoặc bỏ trống: đọc từ stdin.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """In các từ máy không biết và sẽ đánh vần: DÒNG<TAB>TỪ<TAB>cách đọc."""
    from ..speech.check import unknown_tokens

    def answer(number: int, line: str, lexicon: Lexicon) -> str:
        return "".join(f"{number}\t{item.token}\t{item.reading}\n" for item in unknown_tokens(line, lexicon))

    _answer_lines(text, data_dir, answer)


@lexicon_app.callback()
def _lexicon() -> None:
    """Từ điển viết tắt của đài."""


@lexicon_app.command("add")
def add_command(
    written: Annotated[str, typer.Argument(help="Dạng viết, ví dụ: TDP")],
    spoken: Annotated[str, typer.Argument(help="Cách đọc, ví dụ: tổ dân phố")],
    data_dir: DataDirOption = None,
) -> None:
    """Thêm hoặc sửa một mục (ghi đè mục có sẵn cùng dạng viết)."""
    _utf8_streams()
    try:
        lexicon = _load(data_dir, writing=True)
        replaced = lexicon.source(written)
        lexicon.add(written, spoken)
        path = lexicon.save()
    except BroadcasterError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"không ghi được từ điển: {exc}") from None
    verb = {"station": "Đã sửa", "builtin": "Đã ghi đè mục có sẵn"}.get(replaced or "", "Đã thêm")
    typer.echo(f"{verb}: {written.strip()} → {spoken.strip()} ({path})")


@lexicon_app.command("remove")
def remove_command(
    written: Annotated[str, typer.Argument(help="Dạng viết cần xóa")],
    data_dir: DataDirOption = None,
) -> None:
    """Xóa một mục của đài (mục có sẵn chỉ ghi đè được, không xóa được)."""
    _utf8_streams()
    try:
        lexicon = _load(data_dir, writing=True)
        lexicon.remove(written)
        lexicon.save()
    except BroadcasterError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"không ghi được từ điển: {exc}") from None
    typer.echo(f"Đã xóa: {written.strip()}")


@lexicon_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Liệt kê các mục đang dùng (có sẵn và của đài)."""
    _utf8_streams()
    try:
        lexicon = _load(data_dir)
    except BroadcasterError as exc:
        raise _fail(str(exc)) from None
    rows = [
        {"written": written, "spoken": spoken, "source": lexicon.source(written)}
        for written, spoken in lexicon.entries().items()
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    labels = {"station": "của đài", "builtin": "có sẵn"}
    for row in rows:
        typer.echo(f"{row['written']}\t{row['spoken']}\t{labels[row['source']]}")
