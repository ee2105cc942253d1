"""Accounts page (admin only): add an account, change its role, reset its password, (de)activate."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from .. import accounts
from ..exceptions import BroadcasterError
from ..models import ROLE_LABELS, Role
from .security import CurrentUser, require_role, station_of
from .templating import flash, render

router = APIRouter()

admin_only = require_role(Role.admin)


def _page(request: Request, *, error: str | None = None, form: dict | None = None, status_code: int = 200):
    with Session(station_of(request).db) as session:
        users = accounts.list_users(session=session)
        audit = accounts.audit_log(session=session, object_type="user", limit=30)
    return render(
        request,
        "users.html",
        {"title": "Tài khoản", "users": users, "audit": audit, "roles": list(Role), "error": error,
         "form": form or {}, "ROLE_LABELS": ROLE_LABELS},
        status_code=status_code,
    )


@router.get("/users")
def users_page(request: Request, user: CurrentUser = Depends(admin_only)):
    return _page(request)


@router.post("/users")
def users_add(
    request: Request,
    name: str = Form(""),
    full_name: str = Form(""),
    role: str = Form("editor"),
    password: str = Form(""),
    user: CurrentUser = Depends(admin_only),
):
    try:
        with Session(station_of(request).db) as session:
            accounts.add_user(session=session, name=name, role=role, password=password, by=user.name,
                              full_name=full_name)
            session.commit()
    except BroadcasterError as exc:
        return _page(request, error=str(exc), form={"name": name, "full_name": full_name, "role": role},
                     status_code=400)
    flash(request, f"Đã tạo tài khoản {name.strip().lower()}.")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/role")
def users_role(request: Request, name: str, role: str = Form(...), user: CurrentUser = Depends(admin_only)):
    try:
        with Session(station_of(request).db) as session:
            accounts.set_role(session=session, name=name, role=role, by=user.name)
            session.commit()
    except BroadcasterError as exc:
        return _page(request, error=str(exc), status_code=400)
    flash(request, f"Đã đổi vai trò của {name}.")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/active")
def users_active(request: Request, name: str, active: str = Form(...), user: CurrentUser = Depends(admin_only)):
    want = active == "1"
    try:
        with Session(station_of(request).db) as session:
            accounts.set_active(session=session, name=name, active=want, by=user.name)
            session.commit()
    except BroadcasterError as exc:
        return _page(request, error=str(exc), status_code=400)
    flash(request, f"Đã {'mở khóa' if want else 'khóa'} tài khoản {name}.")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/password")
def users_password(request: Request, name: str, password: str = Form(""), user: CurrentUser = Depends(admin_only)):
    try:
        with Session(station_of(request).db) as session:
            accounts.set_password(session=session, name=name, password=password, by=user.name)
            session.commit()
    except BroadcasterError as exc:
        return _page(request, error=str(exc), status_code=400)
    flash(request, f"Đã đặt mật khẩu mới cho {name}.")
    return RedirectResponse("/users", status_code=303)
