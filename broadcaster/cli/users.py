"""`broadcaster user …`: web-console accounts from the command line (the first admin is made here)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..exceptions import InputError
from .common import DataDir, JsonFlag, echo_json, station_for

user_app = typer.Typer(help="Tài khoản bảng điều khiển web: thêm, xem, đổi mật khẩu.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Đọc mật khẩu từ một dòng của đầu vào chuẩn (cho kịch bản).")
]


def _read_password(from_stdin: bool) -> str:
    """One line of stdin, or asked twice with hidden input."""
    from .. import accounts  # accounts, sqlmodel and models load in the commands: `--help` needs none

    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
    else:
        password = typer.prompt("Mật khẩu", hide_input=True)
        again = typer.prompt("Nhập lại mật khẩu", hide_input=True)
        if password != again:
            raise InputError("Hai lần nhập mật khẩu không khớp")
    accounts.check_password(password)
    return password


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tên đăng nhập (chữ thường không dấu, số, . _ -).")],
    role: Annotated[str, typer.Option("--role", help="admin, editor, leader hoặc operator.")],
    full_name: Annotated[Optional[str], typer.Option("--full-name", help="Họ và tên.")] = None,
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
) -> None:
    """Thêm tài khoản."""
    from sqlmodel import Session

    from .. import accounts
    from ..models import ROLE_LABELS

    parsed = accounts.parse_role(role)  # before asking for a password
    name = accounts.normalize_name(name)
    password = _read_password(password_stdin)
    with station_for(ctx, data_dir) as station, Session(station.db) as session:
        accounts.add_user(session=session, name=name, role=parsed, password=password, by="cli", full_name=full_name)
        session.commit()
    typer.echo(f"Đã thêm tài khoản {name} ({ROLE_LABELS[parsed]}).")


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """Danh sách tài khoản."""
    from sqlmodel import Session

    from .. import accounts
    from ..models import ROLE_LABELS, Role

    with station_for(ctx, data_dir) as station, Session(station.db) as session:
        users = accounts.list_users(session=session)
    if as_json:
        return echo_json(u.model_dump(mode="json") for u in users)
    if not users:
        typer.echo("Chưa có tài khoản nào. Thêm: broadcaster user add TÊN --role admin")
        return
    for u in users:
        state = "đang dùng" if u.active else "đã khóa"
        typer.echo(f"{u.name:<20} {ROLE_LABELS[Role(u.role)]:<10} {state:<10} {u.full_name or ''}")


@user_app.command("passwd")
def user_passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tên đăng nhập.")],
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
) -> None:
    """Đặt mật khẩu mới (đăng xuất mọi trình duyệt của tài khoản đó)."""
    from sqlmodel import Session

    from .. import accounts

    with station_for(ctx, data_dir) as station, Session(station.db) as session:
        accounts.get_user(session=session, name=name)  # unknown name: fail before asking
        password = _read_password(password_stdin)
        accounts.set_password(session=session, name=name, password=password, by="cli")
        session.commit()
    typer.echo(f"Đã đổi mật khẩu của {accounts.normalize_name(name)}.")
