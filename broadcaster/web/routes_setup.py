"""The one-time set-up page (issue 11 item 1): the first administrator and the station's name.

Served only while the station has no account, and only to a client on this PC (loopback): a
browser elsewhere on the LAN gets a page saying where to open it instead. Its form is guarded
like the login form (the pre-login CSRF cookie). Every field is checked before anything is
written; on success the new administrator is logged in and lands in the console.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from .. import accounts, firstrun
from ..exceptions import InputError
from .security import CSRF_MESSAGE, PRELOGIN_COOKIE, SESSION_COOKIE, Forbidden, prelogin_token, station_of, tokens_match
from .templating import render

router = APIRouter()

SETUP_PATH = "/setup"
NOT_LOCAL = ("Trang tạo tài khoản đầu tiên chỉ mở được trên chính máy tính của đài (địa chỉ http://127.0.0.1…). "
             "Hãy mở trình duyệt trên máy của đài, hoặc nhờ người quản trị tạo tài khoản bằng lệnh "
             "`broadcaster user add`.")
ALREADY = "Đài đã có tài khoản; hãy đăng nhập."
NO_ACCOUNT_YET = ("Đài chưa có tài khoản nào: hãy mở trang cài đặt lần đầu (/setup) trên chính máy tính của đài, "
                  "hoặc nhờ người quản trị tạo tài khoản bằng lệnh `broadcaster user add`.")


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def needs_setup(request: Request) -> bool:
    """No account yet on the station this console serves."""
    return firstrun.needs_setup(station_of(request).db)


def setup_open_to(request: Request) -> bool:
    """Whether this request may see the set-up page now: no account yet, and a loopback client."""
    return firstrun.is_loopback(_client(request)) and needs_setup(request)


def _page(request: Request, *, error: str | None = None, values: dict | None = None, status_code: int = 200):
    token, new = prelogin_token(request)
    values = values or {"station_name": "", "full_name": "", "name": ""}
    response = render(request, "setup.html", {"title": "Cài đặt lần đầu", "csrf_token": token, "error": error,
                                              "values": values,
                                              "placeholder": "Đài truyền thanh xã Dân Tiến"},
                      status_code=status_code)
    if new:
        response.set_cookie(PRELOGIN_COOKIE, token, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response


def _refused(request: Request):
    """No set-up from here: the client is not this PC (403, saying where to open it)."""
    return render(request, "error.html", {"title": "Cài đặt lần đầu", "message": NOT_LOCAL}, status_code=403)


@router.get(SETUP_PATH)
def setup_form(request: Request):
    if not firstrun.needs_setup(station_of(request).db):
        return RedirectResponse("/login", status_code=303)
    if not firstrun.is_loopback(_client(request)):
        return _refused(request)
    return _page(request)


@router.post(SETUP_PATH)
def setup_submit(
    request: Request,
    station_name: str = Form(""),
    full_name: str = Form(""),
    name: str = Form(""),
    password: str = Form(""),
    password_again: str = Form(""),
    csrf_token: str = Form(""),
):
    station = station_of(request)
    if not firstrun.needs_setup(station.db):
        return render(request, "error.html", {"title": "Cài đặt lần đầu", "message": ALREADY}, status_code=404)
    if not firstrun.is_loopback(_client(request)):
        return _refused(request)
    if not tokens_match(csrf_token, request.cookies.get(PRELOGIN_COOKIE)):
        raise Forbidden(CSRF_MESSAGE)
    values = {"station_name": station_name, "full_name": full_name, "name": name}
    try:
        form = firstrun.check_setup(station_name=station_name, full_name=full_name, name=name,
                                    password=password, again=password_again)
        user = firstrun.create_first_admin(station.db, form, station.settings)
    except InputError as exc:
        return _page(request, error=str(exc), values=values, status_code=400)
    if user is None:  # another browser finished first
        return render(request, "error.html", {"title": "Cài đặt lần đầu", "message": ALREADY}, status_code=404)
    with Session(station.db) as session:
        token, _row = accounts.open_session(session=session, user=user)
        accounts.record(session=session, user=user.name, action="login", object_type="user",
                        object_id=user.name, detail=_client(request))
        session.commit()
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        max_age=int(accounts.SESSION_TTL.total_seconds()))
    response.delete_cookie(PRELOGIN_COOKIE)
    return response
