"""`broadcaster backup create | list | restore`: the station's database backups (see broadcaster/backup.py).

`create` opens the station (so a lost database is refused, never backed up); `list` and
`restore` do not: they are how a station whose database was lost gets it back.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .common import DataDir, cli_settings, open_station

if TYPE_CHECKING:
    from ..config import Settings

backup_app = typer.Typer(
    help="Sao lưu cơ sở dữ liệu: tạo bản sao, xem danh sách, khôi phục.", no_args_is_help=True
)



def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _local(settings: Settings, when) -> str:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M:%S")


@backup_app.command("create")
def create_cmd(ctx: typer.Context, data_dir: DataDir = None) -> None:
    """Sao lưu cơ sở dữ liệu ngay (được cả khi đài đang chạy)."""
    from .. import backup

    station = open_station(ctx, data_dir)
    try:
        made = backup.create_backup(station.settings)
    finally:
        station.close()
    typer.echo(f"Đã sao lưu: {made.path} ({_size(made.size_bytes)})")


@backup_app.command("list")
def list_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Các bản sao lưu, mới nhất trước: tên, dung lượng, thời điểm."""
    from .. import backup

    settings = cli_settings(ctx, data_dir)
    found = backup.list_backups(settings)
    if as_json:
        typer.echo(json.dumps([b.as_json() for b in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo(f"Chưa có bản sao lưu nào trong {backup.backups_dir(settings)}.")
        return
    for b in found:
        typer.echo(f"{b.name}  {_size(b.size_bytes):>9}  {_local(settings, b.created_at)}")


@backup_app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    name: Annotated[
        Optional[str], typer.Argument(help="Tên bản sao lưu (xem backup list) hoặc đường dẫn; mặc định bản mới nhất.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Khôi phục cơ sở dữ liệu từ một bản sao lưu (đài phải đang dừng); bản hiện tại được giữ lại bên cạnh."""
    from .. import backup

    settings = cli_settings(ctx, data_dir)
    outcome = backup.restore_backup(settings, name)
    typer.echo(f"Đã khôi phục cơ sở dữ liệu {settings.db_path} từ {outcome.source}.")
    if outcome.aside is not None:
        typer.echo(f"Cơ sở dữ liệu cũ được giữ ở {outcome.aside}.")
