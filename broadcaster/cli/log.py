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

    table = Table("Số", "Bắt đầu", "Kết thúc", "Tiêu đề", "Khung giờ", "Trạng thái", "Giọng", "Lý do")
    for r in rows:
        table.add_row(
            str(r.id), local_time(r.started_at, station.tz), local_time(r.ended_at, station.tz), r.title,
            r.slot or "", STATUS_LABELS[r.status], r.engine or "", r.reason or "",
        )
    Console().print(table)
