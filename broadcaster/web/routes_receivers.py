"""Loudspeaker clusters (cụm loa, issue 14): the clusters' JSON API and the console page.

API (header ``Authorization: Bearer TOKEN``, the cluster's own token; JSON; see station/receivers.py):
    GET  /api/receiver/config  → 200 {name, zone, station_name, stream_url (listener URL or null), format, report_s}
    POST /api/receiver/status  → 200 {"on_air": bool} (its last report is kept; on_air: the station airs
                                 something for this cluster now, so silence is dead air)
    POST /api/receiver/log     → 200 {stored, last_local_id} (rows sent before are skipped)
A missing/wrong/revoked token → 401, a report under another cluster's name → 403, a malformed body →
422, each ``{"detail": one Vietnamese line}``, and nothing is stored.

Page: /receivers (every logged-in account; the panel refreshes itself through htmx); an administrator
may revoke a cluster there. The log page's "Cụm loa" view (/log?receiver=all|ID) lives here too.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ..exceptions import InputError
from ..localtime import duration_words, fmt_local
from ..models import Role
from ..station.receivers import ReceiverRefused, Refusal
from .paging import page_links, page_number
from .security import CurrentUser, require_role, require_user, station_of
from .templating import flash, render

router = APIRouter()

REFRESH_S = 5
MAX_BODY = 512 * 1024  # 500 log rows fit many times over


def _token(request: Request) -> str | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() or None if scheme.lower() == "bearer" else None


def _refused(exc: ReceiverRefused) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=exc.refusal.value)


async def _body(request: Request):
    """The JSON body, or None when it is not JSON (the service refuses it after the token check)."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


@router.get("/api/receiver/config")
async def receiver_config(request: Request) -> Response:
    receivers = station_of(request).receivers
    try:
        return JSONResponse(await run_in_threadpool(receivers.config, _token(request)))
    except ReceiverRefused as exc:
        return _refused(exc)


@router.post("/api/receiver/status")
async def receiver_status(request: Request) -> Response:
    receivers = station_of(request).receivers
    body = await _body(request)
    try:
        answer = await run_in_threadpool(receivers.record_status, _token(request), body)
    except ReceiverRefused as exc:
        return _refused(exc)
    return JSONResponse(answer)


@router.post("/api/receiver/log")
async def receiver_log(request: Request) -> Response:
    receivers = station_of(request).receivers
    body = await _body(request)
    try:
        return JSONResponse(await run_in_threadpool(receivers.store_log, _token(request), body))
    except ReceiverRefused as exc:
        return _refused(exc)


# ------------------------------------------------------------------ the console page
def _rows(request: Request) -> list[dict]:
    station = station_of(request)
    now = datetime.now(timezone.utc)
    tz = station.settings.timezone
    out = []
    for r in station.receivers.list():
        ago = duration_words((now - r.last_seen).total_seconds()) + " trước" if r.last_seen else ""
        out.append({
            "r": r,
            "last_seen": fmt_local(r.last_seen, tz) if r.last_seen else "chưa lần nào",
            "ago": ago,
            "buffer": f"{r.buffer_s:.1f} giây".replace(".", ",") if r.online and r.buffer_s is not None else "—",
            "playing": (r.mount or "có") if r.playing else "không",
        })
    return out


def _context(request: Request, user: CurrentUser) -> dict:
    rows = _rows(request)
    active = [x for x in rows if not x["r"].revoked]
    return {
        "title": "Cụm loa",
        "rows": rows,
        "online": sum(1 for x in active if x["r"].online),
        "active": len(active),
        "can_revoke": user.role == Role.admin,
        "refresh_s": REFRESH_S,
    }


@router.get("/receivers")
def receivers_page(request: Request, user: CurrentUser = Depends(require_user)):
    """Every cluster's state (the table refreshes itself every few seconds)."""
    return render(request, "receivers.html", _context(request, user))


@router.get("/receivers/panel")
def receivers_panel(request: Request, user: CurrentUser = Depends(require_user)):
    """Just the table (htmx polling)."""
    return render(request, "receivers_panel.html", _context(request, user))


@router.post("/receivers/{receiver_id}/revoke")
async def receivers_revoke(receiver_id: int, request: Request, user: CurrentUser = Depends(require_role(Role.admin))):
    """Revoke a cluster's token: its next request is refused."""
    receiver = station_of(request).receivers.revoke(receiver_id=receiver_id, by=user.name)
    flash(request, f"Đã thu hồi mã của cụm loa «{receiver.name}» ({user.display}).")
    return RedirectResponse("/receivers", status_code=303)


# ------------------------------------------------------------------ the log page's "Cụm loa" view
def _log_filter(request: Request):
    from ..localtime import parse_day
    from ..reports.receiver_log import ReceiverLogFilter, parse_receiver

    q = request.query_params
    return ReceiverLogFilter(receiver_id=parse_receiver(q.get("receiver")),
                             date_from=parse_day(q.get("date_from"), "Từ ngày"),
                             date_until=parse_day(q.get("date_until"), "Đến ngày"))


def receiver_log_page(request: Request, user: CurrentUser):
    """/log?receiver=all|ID: the rows the clusters uploaded, newest first."""
    from ..reports import receiver_log as data

    station = station_of(request)
    error = None
    try:
        filters = _log_filter(request)
    except InputError as exc:
        error, filters = str(exc), data.ReceiverLogFilter()
    with Session(station.db) as session:
        try:
            page = data.query_receiver_log(session=session, tz=station.tz, filters=filters, page=page_number(request))
        except InputError as exc:
            error, filters = str(exc), data.ReceiverLogFilter()
            page = data.query_receiver_log(session=session, tz=station.tz, filters=filters)
    params = filters.query_params()
    return render(request, "log_receivers.html", {
        "title": "Nhật ký cụm loa",
        "page": page,
        "params": params,
        "query": urlencode(params),
        "error": error,
        "receivers": station.receivers.list(),
        "page_url": page_links("/log", params),
    }, status_code=400 if error else 200)


def receiver_log_export(request: Request, suffix: str) -> Response:
    """/log/export.{csv,xlsx}?receiver=…: the clusters' rows as a file."""
    from ..reports import receiver_log as data

    station = station_of(request)
    filters = _log_filter(request)
    with Session(station.db) as session:
        if suffix == "csv":
            body, media = data.receiver_log_csv(session=session, tz=station.tz, filters=filters), "text/csv; charset=utf-8"
        else:
            body = data.receiver_log_xlsx(session=session, tz=station.tz, filters=filters,
                                          title=f"{station.settings.station_name} — Nhật ký cụm loa")
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="nhat-ky-cum-loa-{stamp}.{suffix}"'})


__all__ = ["router", "receiver_log_page", "receiver_log_export", "Refusal"]
