"""`broadcaster receivers …`: the loudspeaker clusters (cụm loa) allowed to take the station's stream
(issue 14): add one (its token is printed once), revoke one, list them with their state."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from .common import DataDir, JsonFlag, echo_json, local_time, station_for

receivers_app = typer.Typer(help="Cụm loa nhận luồng phát qua mạng: thêm, thu hồi, xem trạng thái.",
                            no_args_is_help=True)


def station_url(settings) -> tuple[str, str | None]:
    """The console URL a cluster reaches the station at, and a note when that cannot work from elsewhere."""
    import ipaddress

    try:
        running = json.loads((settings.data_dir / "run" / "serve.json").read_text(encoding="utf-8"))["url"]
    except (OSError, ValueError, KeyError, TypeError):
        running = None
    host = str(settings.web_host)
    url = running or f"http://{'[' + host + ']' if ':' in host else host}:{settings.web_port}"
    name = url.split("//", 1)[-1].rsplit(":", 1)[0].strip("[]")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return url, None
    if address.is_unspecified:
        public = getattr(settings, "stream_public_host", None)
        if public:
            return url.replace(name, public, 1), None
        return url, ("Thay " + name + " bằng địa chỉ mạng của máy đài mà cụm loa kết nối tới.")
    if address.is_loopback:
        return url, ("Lưu ý: bảng điều khiển web đang nghe trên " + name + " (chỉ máy đài): hãy đặt web_host = "
                     "\"0.0.0.0\" trong settings.toml (hoặc chạy serve --host 0.0.0.0) và thay " + name
                     + " bằng địa chỉ mạng của máy đài.")
    return url, None


@receivers_app.command("add")
def receivers_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tên cụm loa (tối đa 60 ký tự), ví dụ \"Cụm loa chợ\".")],
    zone: Annotated[Optional[str], typer.Option("--zone", help="Vùng của cụm loa (ví dụ \"Thôn Đông\"): thông báo "
                                                "khẩn cấp có thể phát riêng cho một vùng.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Thêm cụm loa và in mã truy cập của nó (chỉ in một lần: hãy chép ngay)."""
    import shlex

    from ..station.receivers import clean_name, clean_zone

    clean_name(name), clean_zone(zone)  # bad input: one line before the database is opened
    with station_for(ctx, data_dir) as station:
        added = station.receivers.add(name, zone, by="cli")
        url, note = station_url(station.settings)
    receiver = added.receiver
    where = f" (vùng {receiver.zone})" if receiver.zone else ""
    typer.echo(f"Đã thêm cụm loa «{receiver.name}»{where}.")
    typer.echo(f"Mã truy cập (chỉ in một lần, hãy chép ngay): {added.token}")
    command = ["broadcaster", "receiver", "--station", url, "--token", added.token, "--name", receiver.name]
    if receiver.zone:
        command += ["--zone", receiver.zone]
    typer.echo("Chạy lệnh này trên máy của cụm loa:")
    typer.echo("  " + " ".join(shlex.quote(part) for part in command))
    if note:
        typer.echo(note)


@receivers_app.command("revoke")
def receivers_revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tên cụm loa.")],
    data_dir: DataDir = None,
) -> None:
    """Thu hồi mã của cụm loa: từ lúc này đài từ chối mọi yêu cầu của nó."""
    from ..station.receivers import clean_name

    clean_name(name)
    with station_for(ctx, data_dir) as station:
        receiver = station.receivers.revoke(name, by="cli")
    typer.echo(f"Đã thu hồi mã của cụm loa «{receiver.name}».")


@receivers_app.command("list")
def receivers_list(
    ctx: typer.Context,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """Danh sách cụm loa: vùng, trực tuyến hay không, lần báo cáo cuối, đang phát, lỗi gần nhất."""
    with station_for(ctx, data_dir) as station:
        receivers = station.receivers.list()
        tz = station.tz
    if as_json:
        return echo_json(r.as_json() for r in receivers)
    if not receivers:
        typer.echo("Chưa có cụm loa nào. Thêm: broadcaster receivers add TÊN --zone VÙNG")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("Tên", "Vùng", "Trạng thái", "Báo cáo lần cuối", "Đang phát", "Bộ đệm (giây)", "Lỗi gần nhất")
    for r in receivers:
        table.add_row(r.name, r.zone or "", r.state_label, local_time(r.last_seen, tz),
                      "có" if r.playing else "không", f"{r.buffer_s:.1f}" if r.buffer_s is not None and r.online else "",
                      r.last_error or "")
    Console(width=160).print(table)
