"""The station's Icecast target: parsed once, validated, and never shown with its password.

`stream_url` is `icecast://source:PASSWORD@HOST:PORT/MOUNT`. A zone (a group of loudspeaker
clusters, e.g. the low-lying hamlets) has its own mount next to the main one:
`/dai.mp3` → `/dai-zone-thon-dong.mp3`. Zone names are what the officer types ("Thôn Đông");
the mount uses their ASCII slug.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

FORMATS = {"mp3": (".mp3", "audio/mpeg"), "opus": (".opus", "audio/ogg")}
ZONE_MAX = 40
_SLUG_OK = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MOUNT_OK = re.compile(r"^/[A-Za-z0-9._-]{1,64}$")


class StreamUrlError(ValueError):
    """A stream URL or zone name that cannot be used; str() is one Vietnamese line."""


@dataclass(frozen=True)
class StreamTarget:
    """Where the station sends its audio as an Icecast source."""

    host: str
    port: int
    mount: str
    user: str
    password: str

    def source_url(self, mount: str | None = None) -> str:
        """The full icecast:// URL with the password: for ffmpeg only, never for a log."""
        return (f"icecast://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
                f"@{self.host}:{self.port}{mount or self.mount}")

    def listen_url(self, mount: str | None = None) -> str:
        """The listeners' http:// URL of a mount (no credentials)."""
        return f"http://{self.host}:{self.port}{mount or self.mount}"

    def redacted(self, mount: str | None = None) -> str:
        """What logs and the console may show."""
        return f"icecast://{self.user}:***@{self.host}:{self.port}{mount or self.mount}"

    def zone_mount(self, zone: str) -> str:
        """The mount of one zone: the main mount's stem + '-zone-' + the zone's slug."""
        return zone_mount(self.mount, zone)

    def __repr__(self) -> str:  # dataclass repr would print the password
        return f"StreamTarget({self.redacted()!r})"

    __str__ = redacted


def parse_stream_url(url: str) -> StreamTarget:
    """`icecast://USER:PASSWORD@HOST:PORT/MOUNT` → StreamTarget, or StreamUrlError (Vietnamese).

    The message never contains the password.
    """
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise StreamUrlError("Địa chỉ luồng không đúng dạng icecast://source:MẬT_KHẨU@MÁY:CỔNG/ĐIỂM_PHÁT "
                             "(cổng phải là số từ 1 đến 65535).") from None
    if parts.scheme != "icecast":
        raise StreamUrlError("Địa chỉ luồng phải bắt đầu bằng icecast:// "
                             "(dạng icecast://source:MẬT_KHẨU@MÁY:CỔNG/ĐIỂM_PHÁT).")
    if not parts.hostname:
        raise StreamUrlError("Địa chỉ luồng thiếu tên máy chủ Icecast (dạng icecast://source:MẬT_KHẨU@MÁY:CỔNG/ĐIỂM_PHÁT).")
    if port is None:
        raise StreamUrlError("Địa chỉ luồng thiếu cổng của máy chủ Icecast (ví dụ :8000).")
    if not parts.password:
        raise StreamUrlError("Địa chỉ luồng thiếu mật khẩu nguồn (source) của Icecast.")
    mount = parts.path or ""
    if not _MOUNT_OK.match(mount) or mount.endswith("."):
        raise StreamUrlError("Điểm phát (mount) phải có dạng /ten.mp3: chữ không dấu, số, dấu chấm, gạch.")
    if parts.query or parts.fragment:
        raise StreamUrlError("Địa chỉ luồng không được có phần ?… hay #….")
    return StreamTarget(host=parts.hostname, port=port, mount=mount,
                        user=unquote(parts.username or "source"), password=unquote(parts.password))


def zone_slug(zone: str) -> str:
    """'Thôn Đông' → 'thon-dong'; StreamUrlError when nothing usable is left or it is too long."""
    text = unicodedata.normalize("NFC", (zone or "").strip())
    if not text:
        raise StreamUrlError("Tên vùng không được để trống.")
    if len(text) > ZONE_MAX:
        raise StreamUrlError(f"Tên vùng dài quá {ZONE_MAX} ký tự.")
    ascii_ = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_ = "".join(c for c in ascii_ if not unicodedata.combining(c)).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")
    if not _SLUG_OK.match(slug):
        raise StreamUrlError(f"Tên vùng «{text}» cần có ít nhất một chữ cái hoặc chữ số.")
    return slug


def zone_mount(mount: str, zone: str) -> str:
    """`/dai.mp3`, 'Thôn Đông' → `/dai-zone-thon-dong.mp3` (the extension stays last)."""
    stem, dot, ext = mount.rpartition(".")
    if not dot or "/" in ext:
        stem, ext = mount, ""
    return f"{stem}-zone-{zone_slug(zone)}{'.' + ext if ext else ''}"


__all__ = ["FORMATS", "StreamTarget", "StreamUrlError", "parse_stream_url", "zone_mount", "zone_slug"]
