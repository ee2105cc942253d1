"""Who is asking, may they, and did the request come from our own page (CSRF).

Route modules use three dependencies:

    user: CurrentUser = Depends(require_user)                      # any logged-in account
    user: CurrentUser = Depends(require_role(Role.leader))         # only these roles (403 otherwise)

Both check the CSRF token on every state-changing request (POST/PUT/PATCH/DELETE): the form
field ``csrf_token`` or the header ``X-CSRF-Token`` (htmx sends it: base.html sets hx-headers)
must equal the session's token. Anonymous requests get a redirect to /login (303; htmx requests
get 401 with an HX-Redirect header); a wrong role or a bad token gets 403. Nothing runs before
these checks, so a refused request changes nothing.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from threading import Lock

from fastapi import Request
from sqlmodel import Session

from .. import accounts
from ..models import ROLE_LABELS, Role

SESSION_COOKIE = "bc_session"
# before login there is no session: the login form's token is tied to this cookie (double submit)
PRELOGIN_COOKIE = "bc_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSRF_MESSAGE = "Phiên làm việc không hợp lệ hoặc đã hết hạn (thiếu mã chống giả mạo). Hãy tải lại trang và thử lại."
FORBIDDEN_MESSAGE = "Tài khoản của bạn không có quyền làm việc này."


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in account of a request (a plain snapshot, safe to keep after the DB session closes)."""

    id: int
    name: str
    role: Role
    full_name: str | None
    csrf_token: str
    session_id: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def display(self) -> str:
        return self.full_name or self.name

    def has(self, *roles: Role) -> bool:
        return self.role in roles


class LoginRequired(Exception):
    """No live session: the exception handler sends the browser to /login."""


class Forbidden(Exception):
    """Logged in, but not allowed (role) or the CSRF token is wrong: 403."""

    def __init__(self, message: str = FORBIDDEN_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


def station_of(request: Request):
    """The Station the app serves (app.state.station)."""
    return request.app.state.station


def onair_of(request: Request):
    """The running OnAir, or None when the app runs without playout (tests, a console-only start)."""
    return getattr(request.app.state, "onair", None)


def load_user(request: Request) -> CurrentUser | None:
    """The session's user (cached on request.state.user), or None. Never raises."""
    if "user" in request.state._state:
        return request.state.user
    user = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with Session(station_of(request).db) as session:
            found = accounts.find_session(session=session, token=token)
            if found is not None:
                row, account = found
                user = CurrentUser(
                    id=account.id,
                    name=account.name,
                    role=Role(account.role),
                    full_name=account.full_name,
                    csrf_token=row.csrf_token,
                    session_id=row.id,
                )
    request.state.user = user
    return user


async def submitted_csrf(request: Request) -> str:
    """The CSRF token a request carries: header first (htmx), else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # Starlette caches the parsed form on the request, so the route can still read it
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def tokens_match(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


async def check_csrf(request: Request, user: CurrentUser) -> None:
    if request.method in UNSAFE_METHODS and not tokens_match(await submitted_csrf(request), user.csrf_token):
        raise Forbidden(CSRF_MESSAGE)


async def require_user(request: Request) -> CurrentUser:
    """Dependency: any logged-in account (+ CSRF on state-changing methods)."""
    user = load_user(request)
    if user is None:
        raise LoginRequired()
    await check_csrf(request, user)
    return user


def require_role(*roles: Role):
    """Dependency factory: a logged-in account with one of `roles` (+ CSRF on state-changing methods).

    The allowed roles are kept on the dependency (``.roles``) so tests can enumerate them.
    """
    allowed = frozenset(Role(r) for r in roles)

    async def dependency(request: Request) -> CurrentUser:
        user = await require_user(request)
        if user.role not in allowed:
            raise Forbidden()
        return user

    dependency.roles = allowed  # type: ignore[attr-defined]
    dependency.__name__ = "require_role_" + "_".join(sorted(allowed))
    return dependency


def prelogin_token(request: Request) -> tuple[str, bool]:
    """The login form's CSRF token: the pre-login cookie's value (new=True when it must be set)."""
    existing = request.cookies.get(PRELOGIN_COOKIE)
    if existing and len(existing) >= 20:
        return existing, False
    return secrets.token_urlsafe(32), True


class LoginLimiter:
    """Failed logins, counted in the database over `window_s` (they survive a restart of serve).

    A login is refused (429) while any of these is reached: `limit` failures for the (account,
    address) pair, `per_source` failures from the address whatever the account (a guesser trying
    names), `total` failures from everywhere (a guesser spread over addresses). A success clears
    its own pair. `engine` is the station's (the web's); without one an in-memory database is used.
    `clock` gives seconds since the epoch (wall time: it must mean the same after a restart).
    """

    def __init__(self, limit: int = 5, window_s: float = 300.0, clock=time.time, *, engine=None,
                 per_source: int = 20, total: int = 100) -> None:
        self.limit = limit
        self.per_source = per_source
        self.total = total
        self.window_s = window_s
        self.clock = clock
        if engine is None:
            from sqlalchemy.pool import StaticPool
            from sqlmodel import create_engine

            engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
        from ..models import LoginFailure

        LoginFailure.__table__.create(engine, checkfirst=True)  # databases made before the table existed
        self.engine = engine
        self._lock = Lock()

    @staticmethod
    def _key(name: str, client: str) -> tuple[str, str]:
        return name[:64], (client or "?")[:64]

    def blocked_for(self, name: str, client: str) -> float:
        """Seconds until this account may try again from this address (0 = allowed now)."""
        from sqlalchemy import func
        from sqlmodel import col, select

        from ..models import LoginFailure

        name, client = self._key(name, client)
        now = self.clock()
        cutoff = now - self.window_s
        recent = col(LoginFailure.at) > cutoff
        wait = 0.0
        with Session(self.engine) as session:
            for where, cap in (
                ((LoginFailure.name == name, LoginFailure.client == client), self.limit),
                ((LoginFailure.client == client,), self.per_source),
                ((), self.total),
            ):
                count = session.exec(select(func.count()).select_from(LoginFailure).where(recent, *where)).one()
                if count < cap:
                    continue
                # free again when enough of the oldest failures have aged out to go under the cap
                oldest = session.exec(
                    select(LoginFailure.at).where(recent, *where).order_by(col(LoginFailure.at))
                    .offset(count - cap).limit(1)
                ).first()
                if oldest is not None:
                    wait = max(wait, oldest + self.window_s - now)
        return max(0.0, wait)

    def failed(self, name: str, client: str) -> None:
        from sqlalchemy import delete
        from sqlmodel import col

        from ..models import LoginFailure

        name, client = self._key(name, client)
        now = self.clock()
        with self._lock, Session(self.engine) as session:
            session.execute(delete(LoginFailure).where(col(LoginFailure.at) <= now - self.window_s))
            session.add(LoginFailure(at=now, name=name, client=client))
            session.commit()

    def succeeded(self, name: str, client: str) -> None:
        from sqlalchemy import delete

        from ..models import LoginFailure

        name, client = self._key(name, client)
        with self._lock, Session(self.engine) as session:
            session.execute(delete(LoginFailure).where(LoginFailure.name == name, LoginFailure.client == client))
            session.commit()


def roles_text(roles: Iterable[Role]) -> str:
    return ", ".join(ROLE_LABELS[r] for r in roles)
