"""`broadcaster log`: the as-run log."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import DataDir, JsonFlag, echo_json, local_time, open_station, parse_date_option


def log_cmd(
    ctx: typer.Context,
    as_json: JsonFlag = False,
    since: Annotated[Optional[str], typer.Option("--since", help="Từ ngày (YYYY-MM-DD).")] = None,
    receivers: Annotated[bool, typer.Option("--receivers", help="Nhật ký các cụm loa gửi về (đã nghe, gián đoạn).")] = False,
    receiver: Annotated[Optional[str], typer.Option("--receiver", help="Chỉ nhật ký của cụm loa này (tên).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Nhật ký phát sóng."""
    station = open_station(ctx, data_dir)
    if receivers or receiver:  # the loudspeaker clusters' uploaded rows (issue 14)
        return _receivers_log(station, receiver, parse_date_option(since, "--since"), as_json)
    rows = station.as_run_log(since=parse_date_option(since, "--since"))
    if as_json:
        return echo_json(r.model_dump(mode="json") for r in rows)
    from rich.console import Console
    from rich.table import Table

    from ..models import STATUS_LABELS
    from ..receiver.journal import is_receiver_dir
    from ..reports.log import zones_cell

    if is_receiver_dir(station.settings.data_dir):  # a loudspeaker cluster's log: heard and gaps (issue 14)
        Console().print(_receiver_table(rows, station.tz))
        return

    table = Table("Số", "Bắt đầu", "Kết thúc", "Tiêu đề", "Khung giờ", "Trạng thái", "Giọng", "Lý do")
    for r in rows:
        zones = zones_cell(r)  # an urgent's zones under its title, as the console's log shows them
        table.add_row(
            str(r.id), local_time(r.started_at, station.tz), local_time(r.ended_at, station.tz),
            r.title + (f"\nVùng: {zones}" if zones else ""),
            r.slot or "", STATUS_LABELS[r.status], r.engine or "", r.reason or "",
        )
    Console().print(table)


def _receivers_log(station, name, since, as_json: bool) -> None:
    """`log --receivers [--receiver NAME]`: what the clusters heard and their gaps, oldest first."""
    from sqlmodel import Session

    from ..exceptions import NotFoundError
    from ..reports.receiver_log import ReceiverLogFilter, iter_receiver_log
    from ..station.receivers import clean_name

    try:
        receiver_id = None
        if name:
            wanted = clean_name(name)
            found = [r for r in station.receivers.list() if r.name == wanted]
            if not found:
                known = ", ".join(r.name for r in station.receivers.list()) or "chưa có cụm loa nào"
                raise NotFoundError(f"Không có cụm loa «{wanted}» (các cụm loa: {known})")
            receiver_id = found[0].id
        with Session(station.db) as session:
            entries = list(iter_receiver_log(session=session, tz=station.tz,
                                             filters=ReceiverLogFilter(receiver_id=receiver_id, date_from=since)))
    finally:
        station.close()
    if as_json:
        import dataclasses

        return echo_json(dataclasses.asdict(e) for e in entries)
    from rich.console import Console
    from rich.table import Table

    table = Table("Cụm loa", "Vùng", "Bắt đầu", "Kết thúc", "Loại", "Điểm phát", "Nguyên nhân")
    for e in entries:
        table.add_row(e.receiver, e.zone or "", e.started, e.ended or "đang diễn ra", e.kind_label, e.mount or "",
                      e.cause or "")
    Console(width=160).print(table)  # the cause is one line: keep it readable


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
