"""The web console's app factory.

`create_app(station, onair=None)` builds a FastAPI app over one Station: HTML pages for the
officers (login, bulletins, accounts, and the timetable/on-air/log/report modules when present)
and the token-protected JSON API (web.api) that `broadcaster urgent` talks to.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import Settings
from ..exceptions import BroadcasterError, InputError, NotFoundError, plain_message
from .security import Forbidden, LoginLimiter, LoginRequired
from .templating import make_templates, render

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
# W2's page modules: included when they exist
OPTIONAL_ROUTERS = (
    "broadcaster.web.routes_timetable",
    "broadcaster.web.routes_onair",
    "broadcaster.web.routes_log",
    "broadcaster.web.routes_reports",
    "broadcaster.web.routes_voices",
    "broadcaster.web.routes_lexicon",
    "broadcaster.web.routes_receivers",
)


def api_token_path(settings: Settings) -> Path:
    return settings.data_dir / "run" / "api-token"


def read_or_create_api_token(settings: Settings) -> str:
    """The API bearer token in <data_dir>/run/api-token (mode 0600), made on first use."""
    path = api_token_path(settings)
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except OSError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    from ..disk import write_atomic

    # created 0600 from the start: the token is never readable by others, not even briefly;
    # whole or not at all (a full disk leaves no .part)
    write_atomic(path, token + "\n", mode=0o600)
    try:
        os.chmod(path, 0o600)
    except OSError:  # pragma: no cover - Windows
        pass
    return token


def _include_optional(app: FastAPI, module_name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:  # not written yet: skip; any other missing import is a real bug
            return
        raise
    app.include_router(module.router)


def create_app(station, *, onair=None, settings: Settings | None = None) -> FastAPI:
    """The console over `station`; `onair` is the running OnAir of `serve` (None without playout)."""
    settings = settings or station.settings
    app = FastAPI(title="broadcaster", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.station = station
    app.state.onair = onair
    app.state.settings = settings
    app.state.api_token = read_or_create_api_token(settings)
    app.state.templates = make_templates()
    app.state.login_limiter = LoginLimiter(
        engine=station.db, limit=settings.login_max_failures, window_s=settings.login_window_s,
        per_source=settings.login_max_failures_per_source, total=settings.login_max_failures_total,
    )
    # Secure cookies only when served over https (a reverse proxy): plain-http localhost must work
    app.state.secure_cookies = False

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    from . import api, routes_auth, routes_bulletins, routes_setup, routes_users

    app.include_router(routes_setup.router)  # the first-run page (issue 11 item 1)
    app.include_router(routes_auth.router)
    app.include_router(routes_bulletins.router)
    app.include_router(routes_users.router)
    app.include_router(api.router)
    for name in OPTIONAL_ROUTERS:
        _include_optional(app, name)

    _install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(SecurityHeaders)
    from . import load

    load.install(app, settings)  # outermost: a busy console sheds requests before anything else runs
    return app


class SecurityHeaders:
    """No framing (clickjacking a leader's Duyệt button), no MIME sniffing, no referrer leaks.

    The CSP restricts framing, forms, <base> and plugins only: scripts are all self-hosted today, but
    a stricter script-src would silently break any page that later adds an inline handler."""

    HEADERS = [
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"),
    ]

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.HEADERS if k not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---- request body limits (issue 9 item 4): enforced as the bytes arrive, chunked bodies too
# the largest request we accept: a recording (station.bulletins.MAX_RECORDING_BYTES) plus the form around it
MAX_BODY_BYTES = 110 * 1024 * 1024
URGENT_BODY_BYTES = 60 * 1024 * 1024
# every route that takes no file (login, bulletin and other forms, the JSON API): a 100,000-character
# bulletin is at most ~900 KB form-encoded
MAX_FORM_BYTES = 2 * 1024 * 1024
# upload routes: (path pattern, limit)
UPLOAD_LIMITS = (
    (re.compile(r"^/bulletins/import-docx$"), 11 * 1024 * 1024),  # station.documents.MAX_DOCX_BYTES + the form
    (re.compile(r"^/bulletins/\d+/recording$"), MAX_BODY_BYTES),
    (re.compile(r"^/bulletins$"), MAX_BODY_BYTES),  # a new bulletin may come with its recording (issue 11)
    (re.compile(r"^/onair/urgent$"), URGENT_BODY_BYTES),
)
TOO_LARGE = "Tệp gửi lên quá lớn (tối đa {mb} MB)."


def body_limit_for(path: str, max_bytes: int = MAX_BODY_BYTES) -> int:
    for pattern, limit in UPLOAD_LIMITS:
        if pattern.match(path):
            return min(limit, max_bytes)
    return min(MAX_FORM_BYTES, max_bytes)


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse (413) a request whose body is too large, before anything parses or spools it.

    A declared Content-Length over the route's limit is refused before reading; a chunked body (or
    one that lies about its length) is counted as it arrives and refused as soon as it passes the
    limit: the rest is never read, and whatever the app had begun to answer is replaced by the 413."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _page(self, limit: int) -> HTMLResponse:
        mb = max(1, limit // (1024 * 1024))
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Lỗi</title><p>" + TOO_LARGE.format(mb=mb) + "</p>",
            status_code=413, headers={"connection": "close"},
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope.get("path", ""), self.max_bytes)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._page(limit)(scope, receive, send)
            return
        state = {"read": 0, "over": False, "started": False}

        async def counted_receive():
            if state["over"]:
                raise _BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:
                    state["over"] = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message):
            if state["over"]:
                return  # the app's own answer to a body it could not finish: the 413 goes instead
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await self._page(limit)(scope, receive, send)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _same_site_path(url: str | None) -> str | None:
    """The path and query of a page URL the browser reports, or None when it is not a plain local path."""
    from urllib.parse import urlsplit

    if not url:
        return None
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        target = "/login"
        if request.headers.get("hx-request"):
            # an htmx panel (issue 11 item 8): the whole page goes to login, and back to the page the
            # user was on (HX-Current-URL), never to the bare fragment that asked
            path = _same_site_path(request.headers.get("hx-current-url"))
            if path:
                target += "?next=" + quote(path, safe="")
            return Response(status_code=401, headers={"HX-Redirect": target})
        if request.method == "GET":
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target += "?next=" + quote(path, safe="")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"title": "Không được phép", "message": exc.message}, status_code=403)

    @app.exception_handler(BroadcasterError)
    async def _broadcaster_error(request: Request, exc: BroadcasterError) -> Response:
        status = 404 if isinstance(exc, NotFoundError) else 400 if isinstance(exc, InputError) else 500
        if status == 500:
            log.warning("web request failed: %s", exc)
        message = plain_message(exc) or "Lỗi không mong đợi."  # never library internals
        return render(request, "error.html", {"title": "Lỗi", "message": message}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _wants_html(request):
            from fastapi.responses import JSONResponse

            return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)
        message = {404: "Không tìm thấy trang này.", 405: "Thao tác không hợp lệ."}.get(exc.status_code, str(exc.detail))
        return render(request, "error.html", {"title": "Lỗi", "message": message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if not _wants_html(request):
            from fastapi.responses import JSONResponse

            return JSONResponse({"error": "Dữ liệu gửi lên không hợp lệ"}, status_code=400)
        return render(request, "error.html", {"title": "Lỗi", "message": "Dữ liệu gửi lên không hợp lệ."},
                      status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Lỗi</title><p>Lỗi không mong đợi. Hãy thử lại; "
            "nếu vẫn lỗi, báo cho quản trị.</p>",
            status_code=500,
        )


def iter_routes(app: FastAPI):
    """Every HTTP route of the app as (path, methods, route), through included routers.

    FastAPI ≥ 0.16x keeps included routers as wrappers in app.routes, so a flat walk of
    app.routes would miss them; the security tests enumerate routes with this."""

    def walk(routes, prefix: str):
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:
                context = getattr(route, "include_context", None)
                yield from walk(original.routes, prefix + (getattr(context, "prefix", "") or ""))
            elif getattr(route, "methods", None) and getattr(route, "path", None) is not None:
                yield prefix + route.path, set(route.methods), route

    yield from walk(app.routes, "")
