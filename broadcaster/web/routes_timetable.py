"""The timetable (lịch phát): a week of slots with what each airs, its length and its warnings,
and slot editing (add, edit, switch on/off, remove) through scheduling.store.

Everyone logged in sees the week; slots are edited by an administrator, a leader or an
operator (trực đài). A running serve picks the change up within scheduler_poll_s seconds
(every change bumps the timetable version).
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from .. import accounts
from ..exceptions import InputError, NotFoundError, ScheduleError
from ..models import Role
from ..reports.week import week_start_of, week_view
from ..scheduling import store
from ..scheduling.programme import format_duration
from ..scheduling.timetable import KIND_LABELS, WEEKDAY_NAMES
from .security import CurrentUser, require_role, require_user, station_of
from .templating import flash, render

router = APIRouter()

SLOT_EDITORS = (Role.admin, Role.leader, Role.operator)


def _week(request: Request, station) -> date:
    value = (request.query_params.get("week") or "").strip()
    if value:
        try:
            return week_start_of(date.fromisoformat(value))
        except ValueError:
            raise InputError(f"Tuần '{value}' không hợp lệ (dạng 2026-12-07)") from None
    return week_start_of(station.local_today())


@router.get("/timetable")
def timetable_page(request: Request, user: CurrentUser = Depends(require_user)):
    """The week view (?week=any day of the week) and the list of slots."""
    station = station_of(request)
    week = _week(request, station)
    days = week_view(engine=station.db, timetable=station.timetable(), tz=station.tz, week_start=week, now=station.clock())
    with Session(station.db) as session:
        slots = store.list_slots(session=session)
    slot_rows = [(s, store.slot_from_record(s)) for s in slots]
    return render(request, "timetable.html", {
        "title": "Lịch phát",
        "days": days,
        "week": week,
        "week_end": week + timedelta(days=6),
        "prev_week": (week - timedelta(days=7)).isoformat(),
        "next_week": (week + timedelta(days=7)).isoformat(),
        "this_week": week_start_of(station.local_today()).isoformat(),
        "slot_rows": slot_rows,
        "kind_labels": KIND_LABELS,
        "can_edit": user.role in SLOT_EDITORS,
        "fmt": format_duration,
    })


def _existing(change):
    # store says "no such slot" with a ScheduleError; to the browser that is a 404
    try:
        return change()
    except ScheduleError as exc:
        raise NotFoundError(str(exc)) from exc


def _form_context(values: dict, *, slot_id: int | None, error: str | None = None) -> dict:
    return {
        "title": "Sửa khung giờ" if slot_id else "Thêm khung giờ",
        "values": values,
        "slot_id": slot_id,
        "error": error,
        "weekday_names": list(enumerate(WEEKDAY_NAMES)),
        "kind_labels": KIND_LABELS,
    }


@router.get("/timetable/slots/new")
def slot_new(request: Request, user: CurrentUser = Depends(require_role(*SLOT_EDITORS))):
    return render(request, "timetable_slot.html", _form_context(store.slot_form_values(None), slot_id=None))


@router.get("/timetable/slots/{slot_id}/edit")
def slot_edit(slot_id: int, request: Request, user: CurrentUser = Depends(require_role(*SLOT_EDITORS))):
    with Session(station_of(request).db) as session:
        found = next((s for s in store.list_slots(session=session) if s.id == slot_id), None)
    if found is None:
        raise NotFoundError(f"Không có khung giờ số {slot_id}")
    return render(request, "timetable_slot.html", _form_context(store.slot_form_values(found), slot_id=slot_id))


def _submitted(form) -> dict:
    values = {key: form.get(key) for key in ("name", "time", "kind", "date", "from", "until", "source",
                                               "max_minutes", "duration_min")}
    days = [str(d) for d in form.getlist("days")]
    values["days"] = [WEEKDAY_NAMES[int(d)] for d in days if d.isascii() and d.isdecimal() and int(d) < 7]
    values["enabled"] = form.get("enabled") == "on"
    return values


def _redisplay(request: Request, form, slot_id: int | None, error: str):
    values = _submitted(form)
    values["days"] = [WEEKDAY_NAMES.index(d) for d in values["days"]]
    return render(request, "timetable_slot.html", _form_context(values, slot_id=slot_id, error=error), status_code=400)


@router.post("/timetable/slots")
async def slot_create(request: Request, user: CurrentUser = Depends(require_role(*SLOT_EDITORS))):
    """Add a slot; a bad form comes back with the reason and nothing stored."""
    form = await request.form()
    try:
        slot = store.slot_from_form(_submitted(form))
        with Session(station_of(request).db) as session:
            # the audit row commits with the change (store commits the session)
            accounts.record(session=session, user=user.name, action="slot.add", object_type="slot",
                            object_id=slot.name, detail=f"{slot.at:%H:%M} {slot.days_label()}")
            created = store.add_slot(session=session, slot=slot, settings=station_of(request).settings)
    except ScheduleError as exc:
        return _redisplay(request, form, None, str(exc))
    flash(request, f"Đã thêm khung giờ «{created.name}» ({created.at:%H:%M}) — {user.display}.")
    return RedirectResponse("/timetable", status_code=303)


@router.post("/timetable/slots/{slot_id}")
async def slot_update(slot_id: int, request: Request, user: CurrentUser = Depends(require_role(*SLOT_EDITORS))):
    """Change a slot in place."""
    form = await request.form()
    try:
        slot = store.slot_from_form(_submitted(form))
        with Session(station_of(request).db) as session:
            accounts.record(session=session, user=user.name, action="slot.edit", object_type="slot",
                            object_id=slot_id, detail=f"{slot.name} {slot.at:%H:%M} {slot.days_label()}")
            updated = store.update_slot(session=session, ref=slot_id, slot=slot,
                                          settings=station_of(request).settings)
    except ScheduleError as exc:
        return _redisplay(request, form, slot_id, str(exc))
    flash(request, f"Đã lưu khung giờ «{updated.name}».")
    return RedirectResponse("/timetable", status_code=303)


@router.post("/timetable/slots/{slot_id}/enable")
async def slot_enable(slot_id: int, request: Request, user: CurrentUser = Depends(require_role(*SLOT_EDITORS))):
    with Session(station_of(request).db) as session:
        accounts.record(session=session, user=user.name, action="slot.enable", object_type="slot", object_id=slot_id)
        slot = _existing(lambda: store.set_slot_enabled(session=session, ref=slot_id, enabled=True))
    flash(request, f"Đã bật khung giờ «{slot.name}».")
    return RedirectResponse("/timetable#khung-gio", status_code=303)


@router.post("/timetable/slots/{slot_id}/disable")
async def slot_disable(slot_id: int, request: Request, user: CurrentUser = Depends(require_role(*SLOT_EDITORS))):
    with Session(station_of(request).db) as session:
        accounts.record(session=session, user=user.name, action="slot.disable", object_type="slot", object_id=slot_id)
        slot = _existing(lambda: store.set_slot_enabled(session=session, ref=slot_id, enabled=False))
    flash(request, f"Đã tắt khung giờ «{slot.name}» (không phát cho đến khi bật lại).")
    return RedirectResponse("/timetable#khung-gio", status_code=303)


@router.post("/timetable/slots/{slot_id}/delete")
async def slot_delete(slot_id: int, request: Request, user: CurrentUser = Depends(require_role(*SLOT_EDITORS))):
    with Session(station_of(request).db) as session:
        accounts.record(session=session, user=user.name, action="slot.delete", object_type="slot", object_id=slot_id)
        slot = _existing(lambda: store.remove_slot(session=session, ref=slot_id))
    flash(request, f"Đã xóa khung giờ «{slot.name}» (nhật ký cũ vẫn giữ tên này).")
    return RedirectResponse("/timetable#khung-gio", status_code=303)
