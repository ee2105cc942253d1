"""`broadcaster schedule …` and `broadcaster program`: the timetable from the command line.

Thin typer commands over the station facade and scheduling.store. cli/app.py
mounts them (``app.add_typer(schedule_app, name="schedule")`` and
``app.command("program")(program_cmd)``); errors are BroadcasterErrors, which app.run
prints as one line.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..exceptions import InputError, ScheduleError
from .common import DataDir, open_station

if TYPE_CHECKING:  # the store, the programme and the models load in the commands: `--help` needs none
    from ..scheduling.programme import Programme
    from ..scheduling.timetable import Slot

schedule_app = typer.Typer(
    help="Lịch phát: xem, thêm, xóa khung giờ; nhập/xuất tệp TOML.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="In dạng JSON.")]


def _station(ctx: typer.Context, data_dir: Path | None):
    """The station (common.open_station) with the timetable seeded from the settings."""
    from ..scheduling import store

    station = open_station(ctx, data_dir)
    store.ensure_timetable(engine=station.db, settings=station.settings)
    return station


def _date(value: str | None, what: str) -> date | None:
    from ..scheduling.timetable import parse_date

    try:
        return parse_date(value, what)
    except ScheduleError as exc:
        raise InputError(str(exc)) from exc


def _programme_summary(programme: Programme) -> str:
    from ..models import DEFERRED_LABEL
    from ..scheduling.programme import format_duration

    if programme.relay is not None:
        return f"tiếp sóng {format_duration(programme.relay.duration_s)}"
    parts = [f"{len(programme.items)} tin, {format_duration(programme.total_s)} / {format_duration(programme.max_s)}"]
    if programme.overflow:
        parts.append(f"{len(programme.overflow)} tin {DEFERRED_LABEL}")
    if programme.all_problems:
        parts.append(f"{len(programme.all_problems)} tin chưa dựng được")
    return "; ".join(parts)


def _programme_json(programme: Programme, planned_at: datetime) -> dict:
    return {
        "slot": programme.slot.name,
        "planned_at": planned_at.isoformat(),
        "max_s": programme.max_s,
        "total_s": round(programme.total_s, 3),
        "relay": (
            {"source": programme.relay.source, "duration_s": programme.relay.duration_s} if programme.relay else None
        ),
        "items": [
            {
                "bulletin_id": i.bulletin_id,
                "title": i.title,
                "class": str(i.bulletin_class),
                "duration_s": i.duration_s,
                "offset_s": round(i.offset_s, 3),
                "carried": i.carried,
                "problem": i.problem,
            }
            for i in programme.items
        ],
        "overflow": [
            {
                "bulletin_id": d.bulletin_id,
                "title": d.title,
                "duration_s": d.duration_s,
                "reason": d.reason,
                "problem": d.problem,
            }
            for d in programme.overflow
        ],
        "notes": list(programme.notes),
    }


def _slot_json(slot: Slot) -> dict:
    return {
        "id": slot.id,
        "name": slot.name,
        "kind": slot.kind,
        "time": f"{slot.at:%H:%M}",
        "days": sorted(slot.weekdays) if slot.weekdays is not None else None,
        "date": slot.on_date.isoformat() if slot.on_date else None,
        "from": slot.date_from.isoformat() if slot.date_from else None,
        "until": slot.date_until.isoformat() if slot.date_until else None,
        "max_minutes": slot.max_minutes,
        "source": slot.source,
        "duration_min": slot.duration_min,
        "enabled": slot.enabled,
    }


# ------------------------------------------------------------------------ schedule
@schedule_app.command("list")
def schedule_list(ctx: typer.Context, as_json: JsonFlag = False, data_dir: DataDir = None) -> None:
    """Danh sách khung giờ, lần phát tới và chương trình của lần đó."""
    station = _station(ctx, data_dir)
    timetable = station.timetable()
    now = station.clock()
    entries = []
    for slot in timetable.slots:
        upcoming = slot.next_after(now, timetable.tz) if slot.enabled else None
        programme = station.programme(slot=slot, planned_at=upcoming) if upcoming else None
        entries.append((slot, upcoming, programme))
    if as_json:
        out = []
        for slot, upcoming, programme in entries:
            row = _slot_json(slot)
            row["next_at"] = upcoming.isoformat() if upcoming else None
            row["programme"] = _programme_json(programme, upcoming) if programme else None
            out.append(row)
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not entries:
        typer.echo("Chưa có khung giờ nào. Thêm bằng: broadcaster schedule add --name … --time HH:MM")
        return
    from rich.console import Console
    from rich.table import Table

    from ..scheduling.timetable import KIND_LABELS

    table = Table("Số", "Tên", "Loại", "Giờ", "Ngày", "Tối đa", "Lần tới", "Chương trình")
    notes: list[str] = []
    for slot, upcoming, programme in entries:
        length = f"{slot.duration_min} phút" if slot.is_relay else f"{slot.max_minutes} phút"
        kind = KIND_LABELS[slot.kind] + ("" if slot.enabled else " (tắt)")
        table.add_row(
            str(slot.id),
            slot.name,
            kind,
            f"{slot.at:%H:%M}",
            slot.days_label(),
            length,
            f"{upcoming:%H:%M %d/%m/%Y}" if upcoming else "—",
            _programme_summary(programme) if programme else "",
        )
        if programme is None:
            continue
        for deferred in programme.overflow:
            notes.append(f"{slot.name}: «{deferred.title}» {deferred.reason}")
        for _bulletin_id, title, problem in programme.all_problems:
            notes.append(f"{slot.name}: «{title}» chưa dựng được: {problem}")
        if slot.is_relay:
            notes.append(f"{slot.name}: tiếp sóng {slot.source}")
    Console(width=160).print(table)
    for note in notes:
        typer.echo(note)


@schedule_app.command("add")
def schedule_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Tên khung giờ (duy nhất).")],
    at: Annotated[str, typer.Option("--time", help="Giờ bắt đầu HH:MM (giờ của đài).")],
    days: Annotated[
        Optional[str], typer.Option("--days", help="Ngày trong tuần: T2,T4,CN (mặc định hằng ngày).")
    ] = None,
    max_minutes: Annotated[int, typer.Option("--max-minutes", help="Thời lượng tối đa, phút.")] = 30,
    kind: Annotated[str, typer.Option("--kind", help="recurring, oneoff hoặc relay.")] = "recurring",
    on_date: Annotated[Optional[str], typer.Option("--date", help="Ngày của khung một lần (YYYY-MM-DD).")] = None,
    date_from: Annotated[Optional[str], typer.Option("--from", help="Phát từ ngày (YYYY-MM-DD).")] = None,
    date_until: Annotated[Optional[str], typer.Option("--until", help="Phát đến ngày (YYYY-MM-DD).")] = None,
    source: Annotated[
        Optional[str],
        typer.Option(
            "--source",
            help="Tiếp sóng: luồng http(s) hoặc tệp âm thanh trong thư mục media của đài (media_dir, mặc định data/media/).",
        ),
    ] = None,
    duration_min: Annotated[
        Optional[int], typer.Option("--duration-min", help="Tiếp sóng: thời lượng, phút.")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Thêm nhưng chưa bật.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Thêm một khung giờ; in ra số của khung giờ mới."""
    from ..scheduling.timetable import Slot, _parse_time, parse_days

    slot = Slot(
        name=name,
        at=_parse_time(at, "--time"),
        weekdays=parse_days(days, "--days"),
        max_minutes=max_minutes,
        kind=kind.strip().lower(),
        on_date=_date(on_date, "--date"),
        date_from=_date(date_from, "--from"),
        date_until=_date(date_until, "--until"),
        source=source,
        duration_min=duration_min,
        enabled=not disabled,
    )
    station = _station(ctx, data_dir)
    from sqlmodel import Session

    from ..scheduling import store

    with Session(station.db) as session:
        added = store.add_slot(session=session, slot=slot, settings=station.settings)
    typer.echo(added.id)


@schedule_app.command("remove")
def schedule_remove(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Số hoặc tên khung giờ.")],
    data_dir: DataDir = None,
) -> None:
    """Xóa một khung giờ (nhật ký phát của nó vẫn giữ)."""
    station = _station(ctx, data_dir)
    from sqlmodel import Session

    from ..scheduling import store

    with Session(station.db) as session:
        removed = store.remove_slot(session=session, ref=ref)
    typer.echo(f"Đã xóa khung giờ {removed.id} «{removed.name}»")


def _set_enabled(ctx: typer.Context, ref: str, data_dir: Path | None, enabled: bool) -> None:
    station = _station(ctx, data_dir)
    from sqlmodel import Session

    from ..scheduling import store

    with Session(station.db) as session:
        slot = store.set_slot_enabled(session=session, ref=ref, enabled=enabled)
    typer.echo(f"Đã {'bật' if enabled else 'tắt'} khung giờ {slot.id} «{slot.name}»")


@schedule_app.command("enable")
def schedule_enable(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Số hoặc tên khung giờ.")],
    data_dir: DataDir = None,
) -> None:
    """Bật lại một khung giờ."""
    _set_enabled(ctx, ref, data_dir, True)


@schedule_app.command("disable")
def schedule_disable(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Số hoặc tên khung giờ.")],
    data_dir: DataDir = None,
) -> None:
    """Tạm tắt một khung giờ (không xóa)."""
    _set_enabled(ctx, ref, data_dir, False)


@schedule_app.command("import")
def schedule_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Tệp lịch phát TOML (như schedules/default.toml).")],
    data_dir: DataDir = None,
) -> None:
    """Thay toàn bộ lịch phát bằng nội dung một tệp TOML (kiểm tra hết trước khi thay)."""
    station = _station(ctx, data_dir)
    from sqlmodel import Session

    from ..scheduling import store

    with Session(station.db) as session:
        count = store.import_timetable(
            session=session, path=file, station_timezone=station.settings.timezone, settings=station.settings
        )
    typer.echo(f"Đã nhập {count} khung giờ từ {file}")


@schedule_app.command("export")
def schedule_export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Tệp TOML đầu ra ('-' = in ra màn hình).")],
    data_dir: DataDir = None,
) -> None:
    """Xuất lịch phát ra tệp TOML (nhập lại được bằng schedule import)."""
    from ..scheduling.timetable import dumps_timetable

    station = _station(ctx, data_dir)
    text = dumps_timetable(station.timetable())
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    from .common import check_output_path

    if file.is_dir():
        raise InputError(f"'{file}' là một thư mục; hãy cho tên tệp .toml")
    check_output_path(file)  # never a device node, a pipe or a missing folder (issue 9 item 9)
    from ..disk import write_atomic

    write_atomic(file, text)  # whole or not at all: a full disk leaves no .part
    typer.echo(f"Đã xuất {len(station.timetable().slots)} khung giờ ra {file}")


# ------------------------------------------------------------------------- program
def program_cmd(
    ctx: typer.Context,
    slot: Annotated[Optional[str], typer.Option("--slot", help="Số hoặc tên khung giờ (mặc định: mọi khung).")] = None,
    on_date: Annotated[Optional[str], typer.Option("--date", help="Ngày (YYYY-MM-DD), mặc định hôm nay.")] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """Chương trình một khung giờ sẽ phát: thứ tự, thời lượng, tin chuyển sang khung sau."""
    station = _station(ctx, data_dir)
    day = _date(on_date, "--date") or station.local_today()
    timetable = station.timetable()
    if slot is not None:
        from sqlmodel import Session

        from ..scheduling import store

        with Session(station.db) as session:
            chosen = [store.get_slot(session=session, ref=slot)]
        if not chosen[0].runs_on(day):
            raise ScheduleError(f"Khung giờ «{chosen[0].name}» không phát ngày {day:%d/%m/%Y}")
    else:
        chosen = [s for s in timetable.active if s.runs_on(day)]
    planned = [(s, s.start_on(day, timetable.tz)) for s in sorted(chosen, key=lambda s: (s.at, s.name))]
    programmes = [(p, station.programme(slot=s, planned_at=p)) for s, p in planned]
    if as_json:
        typer.echo(json.dumps([_programme_json(pr, p) for p, pr in programmes], ensure_ascii=False, indent=2))
        return
    if not programmes:
        typer.echo(f"Không có khung giờ nào ngày {day:%d/%m/%Y}.")
        return
    for planned_at, programme in programmes:
        _print_programme(programme, planned_at)


def _print_programme(programme: Programme, planned_at: datetime) -> None:
    from datetime import timedelta

    from ..models import CLASS_LABELS
    from ..scheduling.programme import format_duration
    from ..scheduling.timetable import KIND_LABELS

    slot = programme.slot
    typer.echo(f"{slot.name} — {planned_at:%H:%M %d/%m/%Y} ({KIND_LABELS[slot.kind]})")
    if programme.relay is not None:
        typer.echo(f"  Tiếp sóng {programme.relay.source} trong {format_duration(programme.relay.duration_s)}")
        typer.echo(f"  Tổng thời lượng: {format_duration(programme.total_s)}")
        return
    if not programme.items and not programme.overflow:
        typer.echo("  (không có bản tin nào)")
    for n, item in enumerate(programme.items, start=1):
        start = planned_at + timedelta(seconds=item.offset_s)
        flags = []
        if item.carried:
            flags.append("từ khung trước")
        if item.problem:
            flags.append(f"chưa dựng được: {item.problem}")
        extra = f" [{'; '.join(flags)}]" if flags else ""
        typer.echo(
            f"  {n}. {start:%H:%M:%S}  {format_duration(item.duration_s):>6}  "
            f"{CLASS_LABELS[item.bulletin_class]:<12} #{item.bulletin_id} {item.title}{extra}"
        )
    typer.echo(f"  Tổng thời lượng: {format_duration(programme.total_s)} / tối đa {format_duration(programme.max_s)}")
    for deferred in programme.overflow:
        problem = f" [chưa dựng được: {deferred.problem}]" if deferred.problem else ""
        typer.echo(
            f"  → #{deferred.bulletin_id} {deferred.title} ({format_duration(deferred.duration_s)}): "
            f"{deferred.reason}{problem}"
        )
    for note in programme.notes:
        typer.echo(f"  ! {note}")


__all__ = ["schedule_app", "program_cmd"]
