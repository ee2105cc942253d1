"""The first run (issue 11 item 1): the station's first administrator and its name, from the console.

While no account exists, the console serves a one-time set-up page to loopback clients only
(web/routes_setup.py); it calls `check_setup` (every field, before anything is written), then
`create_first_admin` (the name into settings.toml, then the account; only while there is none).
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
import tomllib
import unicodedata
from dataclasses import dataclass

from sqlmodel import Session, select

from . import accounts
from .config import Settings
from .exceptions import InputError
from .models import Role, User

MAX_STATION_NAME = 120
MAX_FULL_NAME = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_STATION_LINE = re.compile(r"(?m)^[ \t]*#?[ \t]*station_name[ \t]*=.*$")
# one set-up at a time in this process: two browsers submitting at once make one admin, not two
_SETUP_LOCK = threading.Lock()


@dataclass(frozen=True)
class SetupForm:
    """What the set-up page asks, checked and cleaned."""

    station_name: str
    full_name: str
    name: str
    password: str


def needs_setup(engine) -> bool:
    """True while the station has no account at all (the set-up page is served only then)."""
    with Session(engine) as session:
        return session.exec(select(User.id).limit(1)).first() is None


def is_loopback(host: str | None) -> bool:
    """Whether a client address is this PC (127.0.0.0/8, ::1, an IPv4-mapped loopback)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def clean_station_name(value: str | None) -> str:
    """The station's name as typed (NFC, trimmed), or InputError."""
    name = unicodedata.normalize("NFC", (value or "").strip())
    if not name:
        raise InputError("Hãy nhập tên đài (ví dụ: Đài truyền thanh xã Dân Tiến)")
    if len(name) > MAX_STATION_NAME:
        raise InputError(f"Tên đài dài quá {MAX_STATION_NAME} ký tự")
    if _CONTROL.search(name):
        raise InputError("Tên đài có ký tự không hợp lệ")
    return name


def check_setup(*, station_name: str, full_name: str, name: str, password: str, again: str) -> SetupForm:
    """Every field of the set-up page, checked in the page's order: InputError for the first wrong one."""
    station = clean_station_name(station_name)
    person = unicodedata.normalize("NFC", (full_name or "").strip())
    if not person:
        raise InputError("Hãy nhập họ và tên người quản trị")
    if len(person) > MAX_FULL_NAME or _CONTROL.search(person):
        raise InputError(f"Họ và tên không hợp lệ (tối đa {MAX_FULL_NAME} ký tự)")
    if not (name or "").strip():
        raise InputError("Hãy nhập tên đăng nhập")
    login = accounts.normalize_name(name)
    accounts.check_password(password)
    if password != again:
        raise InputError("Hai lần nhập mật khẩu không khớp")
    return SetupForm(station_name=station, full_name=person, name=login, password=password)


def settings_with_station_name(text: str, station_name: str) -> str:
    """settings.toml's text with `station_name = "…"` set (the template's commented line replaced)."""
    line = f"station_name = {json.dumps(station_name, ensure_ascii=False)}"
    if _STATION_LINE.search(text):
        updated = _STATION_LINE.sub(lambda _m: line, text, count=1)
    else:
        updated = text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    if tomllib.loads(updated).get("station_name") != station_name:  # never write a file that reads otherwise
        raise InputError("Không ghi được tên đài vào settings.toml")
    return updated


def save_station_name(settings: Settings, station_name: str) -> None:
    """Write the name into the data directory's settings.toml (whole or not at all) and use it now."""
    from .disk import write_atomic

    path = settings.settings_path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    write_atomic(path, settings_with_station_name(text, station_name))
    settings.station_name = station_name  # the running console and exports use it at once


def create_first_admin(engine, form: SetupForm, settings: Settings) -> User | None:
    """Save the station's name and make the first administrator; None when an account exists by now
    (nothing is written then: two browsers submitting at once make one admin, the other is refused)."""
    with _SETUP_LOCK, Session(engine) as session:
        if session.exec(select(User.id).limit(1)).first() is not None:
            return None
        save_station_name(settings, form.station_name)
        user = accounts.add_user(session=session, name=form.name, role=Role.admin, password=form.password,
                                 by="setup", full_name=form.full_name)
        session.commit()
        session.refresh(user)
        session.expunge(user)
        return user
