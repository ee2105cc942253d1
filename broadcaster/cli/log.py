"""`broadcaster log`: the as-run log."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from .common import DataDir, local_time, open_station, parse_date_option


def log_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    since: Annotated[Optional[str], typer.Option("--since", help="Từ ngày (YYYY-MM-DD).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Nhật ký phát sóng."""
    station = open_station(ctx, data_dir)
    rows = station.as_run_log(since=parse_date_option(since, "--since"))
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from ..models import STATUS_LABELS
    from ..receiver.journal import is_receiver_dir

    if is_receiver_dir(station.settings.data_dir):  # a loudspeaker cluster's log: heard and gaps (issue 14)
        Console().print(_receiver_table(rows, station.tz))
        return

    table = Table("Số", "Bắt đầu", "Kết thúc", "Tiêu đề", "Khung giờ", "Trạng thái", "Giọng", "Lý do")
    for r in rows:
        table.add_row(
            str(r.id), local_time(r.started_at, station.tz), local_time(r.ended_at, station.tz), r.title,
            r.slot or "", STATUS_LABELS[r.status], r.engine or "", r.reason or "",
        )
    Console().print(table)


def _receiver_table(rows, tz):
    """A receiver's as-run log: what it heard (from, to, mount) and each gap with its cause."""
    from rich.table import Table

    from ..localtime import duration_words
    from ..receiver.journal import describe

    table = Table("Số", "Từ", "Đến", "Thời lượng", "Nội dung", "Điểm phát", "Nguyên nhân")
    for r in rows:
        what, cause = describe(r)
        length = duration_words(r.duration_s) if r.ended_at else "đang tiếp diễn" if what != "Bị ngắt" else "?"
        table.add_row(str(r.id), local_time(r.started_at, tz), local_time(r.ended_at, tz), length, what,
                      r.path or "", cause)
    return table
