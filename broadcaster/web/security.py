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
from collections import defaultdict, deque
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
    """At most `limit` failed logins per (account, client address) in `window_s`; then 429 until they age out.

    In memory: serve is one process, and a restart clearing the count is acceptable for a
    station PC on a local network (the argon2 cost already slows guessing).
    """

    def __init__(self, limit: int = 5, window_s: float = 300.0, clock=time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = Lock()

    def _prune(self, key: tuple[str, str]) -> deque[float]:
        q = self._failures[key]
        cutoff = self.clock() - self.window_s
        while q and q[0] <= cutoff:
            q.popleft()
        return q

    def blocked_for(self, name: str, client: str) -> float:
        """Seconds until this pair may try again (0 = allowed now)."""
        with self._lock:
            q = self._prune((name, client))
            if len(q) < self.limit:
                return 0.0
            return max(0.0, q[0] + self.window_s - self.clock())

    def failed(self, name: str, client: str) -> None:
        with self._lock:
            self._prune((name, client)).append(self.clock())

    def succeeded(self, name: str, client: str) -> None:
        with self._lock:
            self._failures.pop((name, client), None)


def roles_text(roles: Iterable[Role]) -> str:
    return ", ".join(ROLE_LABELS[r] for r in roles)
