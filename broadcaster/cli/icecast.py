"""`broadcaster icecast-config`: a ready icecast.xml for the station's Icecast 2 server (issue 14 item 1).

The XML goes to stdout (redirect it into /etc/icecast2/icecast.xml); the `stream_url = "…"` line for
the station's settings.toml goes to stderr with what to do, so the redirected file stays pure XML.
Low latency for loudspeakers: no burst on connect, a small queue; random passwords each run.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer

from ..exceptions import InputError

_HOST_OK = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$|^\[?[0-9A-Fa-f:.]+\]?$")


def icecast_config_cmd(
    port: Annotated[int, typer.Option("--port", help="Cổng Icecast lắng nghe (mặc định 8000).")] = 8000,
    hostname: Annotated[str, typer.Option(
        "--hostname", help="Tên máy hoặc địa chỉ của máy chạy Icecast mà các cụm loa dùng (mặc định localhost).")
    ] = "localhost",
    mount: Annotated[str, typer.Option("--mount", help="Điểm phát chính của đài (mặc định /dai.mp3).")] = "/dai.mp3",
) -> None:
    """In ra tệp cấu hình icecast.xml sẵn dùng (độ trễ thấp, mật khẩu ngẫu nhiên) và dòng stream_url cho
    settings.toml của đài. Ví dụ: broadcaster icecast-config > /etc/icecast2/icecast.xml"""
    from ..streaming.icecast_config import IcecastConfig
    from ..streaming.urls import StreamUrlError, parse_stream_url

    if not 1 <= port <= 65535:
        raise InputError(f"--port {port} không hợp lệ: phải từ 1 đến 65535")
    host = hostname.strip()
    if not _HOST_OK.match(host):
        raise InputError(f"--hostname «{hostname}» không hợp lệ: chỉ chữ không dấu, số, dấu chấm và gạch ngang")
    config = IcecastConfig(port=port, hostname=host).with_passwords()
    shown_host = f"[{host.strip('[]')}]" if ":" in host else host
    url = f"icecast://source:{config.source_password}@{shown_host}:{port}{mount}"
    try:
        parse_stream_url(url)
    except StreamUrlError as exc:
        raise InputError(f"--mount «{mount}» không dùng được: {exc}") from None
    typer.echo(config.xml(), nl=False)
    typer.echo("Lưu phần trên thành /etc/icecast2/icecast.xml rồi khởi động lại icecast2; thêm dòng sau vào "
               "settings.toml của đài (giữ kín: có mật khẩu nguồn):", err=True)
    typer.echo(f'stream_url = "{url}"', err=True)


__all__ = ["icecast_config_cmd"]
