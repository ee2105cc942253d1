"""Login, logout and the home page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from .. import accounts
from .security import (
    CSRF_MESSAGE,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    Forbidden,
    load_user,
    prelogin_token,
    require_user,
    station_of,
    tokens_match,
)
from .templating import render

router = APIRouter()

BAD_LOGIN = "Sai tên đăng nhập hoặc mật khẩu."
TOO_MANY = "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {minutes} phút."


def _safe_next(value: str | None) -> str:
    """Only same-site paths: an open redirect would make the login page a phishing tool."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _secure(request: Request) -> bool:
    """Secure cookies over https; plain-http localhost (the default) must still log in."""
    return bool(request.app.state.secure_cookies) or request.url.scheme == "https"


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _login_page(request: Request, *, next_url: str, error: str | None = None, name: str = "",
                status_code: int = 200):
    token, new = prelogin_token(request)
    response = render(
        request,
        "login.html",
        {"csrf_token": token, "next_url": next_url, "error": error, "name": name, "title": "Đăng nhập"},
        status_code=status_code,
    )
    if new:
        response.set_cookie(PRELOGIN_COOKIE, token, httponly=True, samesite="lax",
                            secure=_secure(request))
    return response


@router.get("/", include_in_schema=False)
def home(request: Request, user: CurrentUser = Depends(require_user)):
    """Each role's own page: an operator's is Trực đài (issue 11 item 7), everyone else's the bulletins."""
    from ..models import Role

    return RedirectResponse("/onair" if user.role == Role.operator else "/bulletins", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None):
    if load_user(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    from .routes_setup import NO_ACCOUNT_YET, SETUP_PATH, needs_setup, setup_open_to

    if setup_open_to(request):  # no account yet, on the station's PC: the one-time set-up page
        return RedirectResponse(SETUP_PATH, status_code=303)
    note = NO_ACCOUNT_YET if needs_setup(request) else None  # another computer: say where to set up
    return _login_page(request, next_url=_safe_next(next), error=note)


@router.post("/login")
def login(
    request: Request,
    name: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/"),
):
    """Check the pre-login CSRF cookie, the rate limit, then the password; start a session."""
    if not tokens_match(csrf_token, request.cookies.get(PRELOGIN_COOKIE)):
        raise Forbidden(CSRF_MESSAGE)
    limiter = request.app.state.login_limiter
    key_name = name.strip().lower()
    wait = limiter.blocked_for(key_name, _client(request))
    if wait > 0:
        minutes = max(1, int(wait // 60) + (1 if wait % 60 else 0))
        return _login_page(request, next_url=_safe_next(next), error=TOO_MANY.format(minutes=minutes),
                           name=name, status_code=429)
    with Session(station_of(request).db) as session:
        user = accounts.authenticate(session=session, name=name, password=password)
        if user is None:
            limiter.failed(key_name, _client(request))
            accounts.record(session=session, user=None, action="login.failed", object_type="user",
                            object_id=key_name[:64], detail=_client(request))
            session.commit()
            return _login_page(request, next_url=_safe_next(next), error=BAD_LOGIN, name=name, status_code=401)
        limiter.succeeded(key_name, _client(request))
        token, _row = accounts.open_session(session=session, user=user)
        accounts.record(session=session, user=user.name, action="login", object_type="user",
                        object_id=user.name, detail=_client(request))
        session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=_secure(request), max_age=int(accounts.SESSION_TTL.total_seconds()))
    response.delete_cookie(PRELOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, user: CurrentUser = Depends(require_user)):
    with Session(station_of(request).db) as session:
        accounts.close_session(session=session, token=request.cookies.get(SESSION_COOKIE))
        accounts.record(session=session, user=user.name, action="logout", object_type="user", object_id=user.name)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
