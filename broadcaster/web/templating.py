"""Jinja2 templates (autoescape always on) and the `render` helper every route uses.

`render(request, "page.html", {...})` adds what base.html needs: the user, the CSRF token,
the flash message, the sound-card banner, the navigation and the Vietnamese labels.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlmodel import Session

from ..db import as_utc
from ..localtime import duration_words
from ..models import (
    CLASS_LABELS,
    FREQUENCY_LABELS,
    KIND_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    Role,
    WebSession,
)
from .security import load_user, station_of

TEMPLATE_DIR = Path(__file__).with_name("templates")

NO_DEVICE_BANNER = (
    "Không có thiết bị âm thanh: đài vẫn chạy theo lịch nhưng chưa phát ra loa được; "
    "phần mềm tự thử lại. Hãy kiểm tra card âm thanh / dây nối."
)

# (url, label, roles that see it; None = everyone logged in)
NAV = [
    ("/bulletins", "Bản tin", None),
    ("/timetable", "Lịch phát", None),
    ("/onair", "Trực đài", None),
    ("/log", "Nhật ký", None),
    ("/reports", "Báo cáo", None),
    ("/receivers", "Cụm loa", None),
    ("/users", "Tài khoản", {Role.admin}),
]


def make_templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["label_class"] = lambda v: CLASS_LABELS.get(v, v or "")
    env.filters["label_status"] = lambda v: STATUS_LABELS.get(v, v or "")
    env.filters["label_role"] = lambda v: ROLE_LABELS.get(v, v or "")
    env.filters["label_frequency"] = lambda v: FREQUENCY_LABELS.get(v, v or "")
    env.filters["label_kind"] = lambda v: KIND_LABELS.get(v, v or "")
    env.filters["vn_date"] = vn_date
    env.filters["vn_duration"] = duration_words  # "23 phút 48 giây"
    env.filters["dmy"] = dmy
    env.filters["audit_detail"] = audit_detail
    from ..accounts import ACTION_LABELS

    env.filters["label_action"] = lambda v: ACTION_LABELS.get(v, v or "")
    return Jinja2Templates(env=env)


def vn_date(value: date | None) -> str:
    """dd/mm/yyyy, as officers write dates."""
    return value.strftime("%d/%m/%Y") if value else ""


def local_dt(request: Request, value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored UTC time shown in the station's zone."""
    if value is None:
        return ""
    return as_utc(value).astimezone(ZoneInfo(station_of(request).settings.timezone)).strftime(fmt)


def device_banner(request: Request) -> str | None:
    """The no-sound-card warning when a running OnAir's player is not open (None otherwise)."""
    onair = getattr(request.app.state, "onair", None)
    if onair is None:
        return None
    player = getattr(onair, "player", None)
    try:
        is_open = bool(player.is_open) if player is not None else False
    except Exception:
        is_open = False
    return None if is_open else NO_DEVICE_BANNER


def disk_banner(request: Request) -> str | None:
    """The low-disk warning (disk.low_space) while the data directory's disk is below min_free_mb."""
    from ..disk import low_space

    try:
        return low_space(station_of(request).settings)
    except Exception:  # the banner must never break a page
        return None


def settings_banners(request: Request) -> list[str]:
    """The problems serve found in its settings and ignored (an unknown key), one banner each."""
    try:
        return [f"Cảnh báo cài đặt: {line} — cài đặt này đang bị bỏ qua; hãy sửa tệp rồi khởi động lại đài."
                for line in station_of(request).settings.warnings]
    except Exception:  # the banner must never break a page
        return []


def station_name(request: Request) -> str:
    """The station's name (setting station_name) for page titles and the header."""
    try:
        return station_of(request).settings.station_name
    except Exception:  # a page must never break on it
        return "Đài truyền thanh"


def flash(request: Request, message: str) -> None:
    """Keep a message for the next page this browser loads (stored on the server-side session)."""
    user = load_user(request)
    if user is None:
        return
    with Session(station_of(request).db) as session:
        row = session.get(WebSession, user.session_id)
        if row is not None:
            row.flash = message
            session.add(row)
            session.commit()


def pop_flash(request: Request) -> str | None:
    user = load_user(request)
    if user is None:
        return None
    with Session(station_of(request).db) as session:
        row = session.get(WebSession, user.session_id)
        if row is None or not row.flash:
            return None
        message, row.flash = row.flash, None
        session.add(row)
        session.commit()
        return message


_ISO_DAY_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Date fields are text inputs: type="date" shows the browser's own locale (mm/dd/yyyy in an English
# Chromium); these always show and take dd/mm/yyyy (localtime.parse_day reads both it and ISO).
DATE_INPUT = 'inputmode="numeric" placeholder="dd/mm/yyyy" pattern="\\d{1,2}/\\d{1,2}/\\d{4}|\\d{4}-\\d{2}-\\d{2}"'


def dmy(value: object) -> str:
    """A day for a date field: a date or an ISO day as dd/mm/yyyy; anything else as typed."""
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    match = _ISO_DAY_RE.fullmatch(str(value).strip())
    return f"{match.group(3)}/{match.group(2)}/{match.group(1)}" if match else str(value)


_STATUS_CHANGE_RE = re.compile(r"(\w+) → (\w+)")
_SECONDS_RE = re.compile(r"\((\d+(?:\.\d+)?) s\)$")


def audit_detail(detail: str | None) -> str:
    """A history row's detail in words: rows written before issue #11 said "draft → draft" and "(93.1 s)"."""
    if not detail:
        return ""
    change = _STATUS_CHANGE_RE.fullmatch(detail)
    if change and change.group(1) in STATUS_LABELS and change.group(2) in STATUS_LABELS:
        before, after = change.groups()
        return "" if before == after else f"{STATUS_LABELS[before]} → {STATUS_LABELS[after]}"
    return _SECONDS_RE.sub(lambda m: f"({duration_words(float(m.group(1)))})", detail)


def person_lookup(request: Request):
    """person(login) → that account's full name (the login when it has none or is no account).

    Accounts are read once per page, on first use; pages that show no names never query."""
    names: dict[str, str] | None = None

    def person(login: str | None) -> str:
        nonlocal names
        if not login:
            return ""
        if names is None:
            from sqlmodel import select

            from ..models import User

            with Session(station_of(request).db) as session:
                names = {u.name: (u.full_name or u.name) for u in session.exec(select(User)).all()}
        return names.get(login, login)

    return person


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
):
    """A TemplateResponse with the base context (user, csrf_token, flash, banner, nav, labels).

    Partials rendered for htmx go through here too (they simply do not extend base.html)."""
    user = load_user(request)
    ctx: dict[str, Any] = {
        "user": user,
        "csrf_token": user.csrf_token if user else context.get("csrf_token", "") if context else "",
        "flash": pop_flash(request) if user and not request.headers.get("hx-request") else None,
        "device_banner": device_banner(request),
        "disk_banner": disk_banner(request),
        "settings_banners": settings_banners(request),
        "nav": [(url, label) for url, label, roles in NAV if user and (roles is None or user.role in roles)],
        "current_path": request.url.path,
        "station_name": station_name(request),
        "local_dt": lambda value, fmt="%d/%m/%Y %H:%M": local_dt(request, value, fmt),
        "person": person_lookup(request),
        "DATE_INPUT": DATE_INPUT,
        "CLASS_LABELS": CLASS_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "FREQUENCY_LABELS": FREQUENCY_LABELS,
        "Role": Role,
    }
    if context:
        ctx.update(context)
    if user is not None:
        # a logged-in page is never kept by the browser: Back after logout shows nothing (issue 11 item 8)
        headers = {"Cache-Control": "no-store", **(headers or {})}
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
