"""Jinja2 templates (autoescape always on) and the `render` helper every route uses.

`render(request, "page.html", {...})` adds what base.html needs: the user, the CSRF token,
the flash message, the sound-card banner, the navigation and the Vietnamese labels.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlmodel import Session

from ..db import as_utc
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
        "local_dt": lambda value, fmt="%d/%m/%Y %H:%M": local_dt(request, value, fmt),
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
