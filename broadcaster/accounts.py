"""Web-console accounts, server-side sessions and the audit trail (data access).

Keyword-only functions taking a SQLModel ``session`` (the caller commits), in the
style of the rest of the project. Passwords are hashed with argon2id (argon2-cffi);
session cookies are random tokens of which only the sha256 is stored.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from .db import as_utc
from .exceptions import InputError, NotFoundError
from .models import AuditEntry, Role, User, UserPublic, WebSession, utcnow

MIN_PASSWORD = 8
SESSION_TTL = timedelta(hours=12)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

# what the audit actions are called on the pages (the stored action stays English and stable)
ACTION_LABELS = {
    "login": "đăng nhập",
    "login.failed": "đăng nhập sai",
    "logout": "đăng xuất",
    "user.add": "thêm tài khoản",
    "user.passwd": "đổi mật khẩu",
    "user.role": "đổi vai trò",
    "user.activate": "mở khóa tài khoản",
    "user.deactivate": "khóa tài khoản",
    "bulletin.create": "viết bản tin",
    "bulletin.edit": "sửa bản tin",
    "bulletin.submit": "gửi duyệt",
    "bulletin.approve": "duyệt",
    "bulletin.reject": "trả lại",
    "bulletin.render_failed": "lỗi dựng âm thanh",
    "bulletin.recording": "tải lên giọng thu",
    "bulletin.recording_removed": "bỏ giọng thu",
    "receiver.add": "thêm cụm loa",
    "receiver.revoke": "thu hồi cụm loa",
}

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a login takes as long for a wrong name.

    Made on the first login, not at import: an argon2 hash takes ~64 MB for a moment, and every
    process that only writes audit rows (serve's slot loop, a CLI render) imports this module."""
    return _hasher.hash("không-có-tài-khoản-này")


def hash_password(password: str) -> str:
    """An argon2id hash of a password (checked for minimum length first)."""
    check_password(password)
    return _hasher.hash(password)


def check_password(password: str) -> None:
    """Refuse a password too short to be worth hashing."""
    if len(password or "") < MIN_PASSWORD:
        raise InputError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự")


def normalize_name(name: str) -> str:
    """Account names are lower-case ASCII (a–z, 0–9, . _ -), so they are typed the same everywhere."""
    value = unicodedata.normalize("NFC", (name or "").strip()).lower()
    if not NAME_RE.match(value):
        raise InputError(
            f"Tên đăng nhập '{name}' không hợp lệ: chỉ dùng chữ không dấu, số, dấu chấm, gạch dưới, gạch ngang"
        )
    return value


def parse_role(role: str | Role) -> Role:
    try:
        return Role(str(role).strip().lower())
    except ValueError as exc:
        raise InputError(f"Vai trò '{role}' không có; chọn admin, editor, leader hoặc operator") from exc


def record(
    *,
    session: Session,
    user: str | None,
    action: str,
    object_type: str,
    object_id: object | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit row to the caller's transaction (it commits with the change it describes)."""
    entry = AuditEntry(
        at=at or utcnow(),
        user=user,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail,
    )
    session.add(entry)
    return entry


def audit_log(*, session: Session, object_type: str | None = None, object_id: object | None = None,
              limit: int = 200) -> list[AuditEntry]:
    """Newest audit rows first, optionally for one object."""
    query = select(AuditEntry)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == str(object_id))
    return list(session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)).all())


# ------------------------------------------------------------------------ users
def get_user(*, session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == normalize_name(name))).first()
    if user is None:
        raise NotFoundError(f"Không có tài khoản '{name}'")
    return user


def list_users(*, session: Session) -> list[UserPublic]:
    return [UserPublic.model_validate(u) for u in session.exec(select(User).order_by(col(User.name))).all()]


def add_user(
    *, session: Session, name: str, role: str | Role, password: str, by: str | None, full_name: str | None = None
) -> User:
    """Create an account (committed by the caller). Names are unique."""
    name = normalize_name(name)
    role = parse_role(role)
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise InputError(f"Tài khoản '{name}' đã có")
    user = User(
        name=name,
        role=role,
        password_hash=hash_password(password),
        full_name=(full_name or "").strip() or None,
        created_by=by,
    )
    session.add(user)
    session.flush()
    record(session=session, user=by, action="user.add", object_type="user", object_id=name, detail=f"role={role}")
    return user


def set_password(*, session: Session, name: str, password: str, by: str | None) -> User:
    user = get_user(session=session, name=name)
    user.password_hash = hash_password(password)
    session.add(user)
    _drop_sessions(session=session, user_id=user.id)  # a new password logs every browser out
    record(session=session, user=by, action="user.passwd", object_type="user", object_id=user.name)
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave no active admin (nobody could manage accounts on the web)."""
    others = session.exec(
        select(User).where(User.role == Role.admin, User.active == True, User.id != user.id)  # noqa: E712
    ).first()
    if user.role == Role.admin and user.active and others is None:
        raise InputError("Phải còn ít nhất một tài khoản quản trị đang dùng")


def set_role(*, session: Session, name: str, role: str | Role, by: str | None) -> User:
    user = get_user(session=session, name=name)
    role = parse_role(role)
    if role != Role.admin:
        _keep_an_admin(session, user)
    old = user.role
    user.role = role
    session.add(user)
    record(session=session, user=by, action="user.role", object_type="user", object_id=user.name,
           detail=f"{old} → {role}")
    return user


def set_active(*, session: Session, name: str, active: bool, by: str | None) -> User:
    user = get_user(session=session, name=name)
    if not active and by == user.name:
        raise InputError("Không thể tự khóa tài khoản của chính mình")
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    session.add(user)
    if not active:
        _drop_sessions(session=session, user_id=user.id)
    record(session=session, user=by, action="user.activate" if active else "user.deactivate",
           object_type="user", object_id=user.name)
    return user


def authenticate(*, session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (same cost either way)."""
    try:
        name = normalize_name(name)
    except InputError:
        name = ""
    user = session.exec(select(User).where(User.name == name)).first() if name else None
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
    return user


# --------------------------------------------------------------------- sessions
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(*, session: Session, user: User, now: datetime | None = None) -> tuple[str, WebSession]:
    """Start a browser session; returns (cookie value, row). Only the cookie's digest is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = WebSession(
        id=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen=now,
        expires_at=now + SESSION_TTL,
    )
    session.add(row)
    # old expired sessions are swept here rather than by a timer
    for old in session.exec(select(WebSession).where(WebSession.expires_at < now)).all():
        session.delete(old)
    return token, row


def find_session(*, session: Session, token: str | None, now: datetime | None = None) -> tuple[WebSession, User] | None:
    """The live session and its active user for a cookie value, else None. Slides the expiry."""
    if not token:
        return None
    now = now or utcnow()
    row = session.get(WebSession, _digest(token))
    if row is None or as_utc(row.expires_at) <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    # sliding expiry, written at most once a minute to keep page loads read-only
    if now - as_utc(row.last_seen) > timedelta(minutes=1):
        row.last_seen = now
        row.expires_at = now + SESSION_TTL
        session.add(row)
        session.commit()
        session.refresh(row)
    return row, user


def close_session(*, session: Session, token: str | None) -> None:
    if not token:
        return
    row = session.get(WebSession, _digest(token))
    if row is not None:
        session.delete(row)


def _drop_sessions(*, session: Session, user_id: int) -> None:
    for row in session.exec(select(WebSession).where(WebSession.user_id == user_id)).all():
        session.delete(row)
