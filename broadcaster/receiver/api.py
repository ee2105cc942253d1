"""The receiver's side of the station's receiver API (contract of issue 14): config, status, log.

Standard library HTTP (urllib), JSON, `Authorization: Bearer TOKEN`. What can go wrong is a typed
error: StationRefused (401/403: the token is wrong or revoked, or the name is not the token's),
StationUnreachable (no answer), StationBadAnswer (an answer that is not the contract's). No error
text ever holds the token. The options a person types are checked here first (check_options).
"""

from __future__ import annotations

import http.client
import json
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import BroadcasterError, InputError
from ..streaming.urls import FORMATS, StreamUrlError, zone_slug

NAME_MAX = 60
TOKEN_MAX = 256
TIMEOUT_S = 5.0
REPORT_S_RANGE = (0.5, 600.0)
LAST_ERROR_MAX = 300


class OptionError(InputError):
    """A receiver option that cannot be used (a wrong --station URL, a missing token): exit 2."""

    exit_code = 2


class Refusal(Enum):
    TOKEN = "token"  # 401: a missing, wrong or revoked token
    NAME = "name"  # 403: the report's name is not the token's receiver


class StationRefused(BroadcasterError):
    """The station refused this receiver; it stops (exit 3: a service manager need not restart it)."""

    exit_code = 3

    def __init__(self, refusal: Refusal) -> None:
        text = (
            "Đài từ chối mã của cụm loa (mã sai hoặc đã bị thu hồi); cụm loa đã dừng phát. Hãy xin mã mới bằng "
            "`broadcaster receivers add` ở đài."
            if refusal is Refusal.TOKEN else
            "Tên cụm loa không khớp với mã (--name phải là tên đã đăng ký ở đài); cụm loa đã dừng phát."
        )
        super().__init__(text, refusal=refusal.value)
        self.refusal = refusal


class StationUnreachable(BroadcasterError):
    """No answer from the station (down, restarting, network lost)."""


class StationBadAnswer(BroadcasterError):
    """An answer that is not what the contract says."""


@dataclass(frozen=True)
class ReceiverOptions:
    station: str  # http(s)://HOST[:PORT][/prefix], without a trailing slash
    token: str
    name: str
    zone: str | None


@dataclass(frozen=True)
class ReceiverConfig:
    """GET /api/receiver/config: what the station tells this receiver to play."""

    name: str
    zone: str | None
    station_name: str
    stream_url: str | None  # http://HOST:PORT/MOUNT, None while the station has no stream_url
    format: str
    report_s: float

    def to_json(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: Any) -> ReceiverConfig:
        """The station's answer (or the copy kept in the data directory), checked; StationBadAnswer if not."""
        if not isinstance(data, dict):
            raise StationBadAnswer("đài trả lời cấu hình không đúng dạng (không phải đối tượng JSON)")

        def text(key: str, *, optional: bool = False) -> str | None:
            value = data.get(key)
            if value is None and optional:
                return None
            if not isinstance(value, str) or not value.strip():
                raise StationBadAnswer(f"đài trả lời cấu hình thiếu hoặc sai trường «{key}»")
            return value

        stream_url = text("stream_url", optional=True)
        if stream_url is not None:
            parts = urlsplit(stream_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or not parts.path.strip("/"):
                raise StationBadAnswer("đài trả lời địa chỉ luồng không phải http://MÁY:CỔNG/ĐIỂM_PHÁT")
        fmt = data.get("format", "mp3")
        if fmt not in FORMATS:
            raise StationBadAnswer(f"đài trả lời định dạng luồng lạ «{str(fmt)[:20]}»")
        report_s = data.get("report_s", 5.0)
        if isinstance(report_s, bool) or not isinstance(report_s, (int, float)) or not (
                REPORT_S_RANGE[0] <= report_s <= REPORT_S_RANGE[1]):
            raise StationBadAnswer("đài trả lời chu kỳ báo cáo (report_s) không hợp lệ")
        return cls(name=text("name"), zone=text("zone", optional=True), station_name=text("station_name"),
                   stream_url=stream_url, format=fmt, report_s=float(report_s))

    @property
    def mount(self) -> str | None:
        return urlsplit(self.stream_url).path if self.stream_url else None


def check_options(*, station: str | None, token: str | None, name: str | None, zone: str | None) -> ReceiverOptions:
    """The receiver's options, checked before anything is written; OptionError (one line) if not usable."""
    url = (station or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise OptionError(f"--station «{url}» không đúng dạng http://MÁY:CỔNG (cổng phải là số 1-65535)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError(f"--station «{url}» phải là địa chỉ của đài dạng http://MÁY:CỔNG (ví dụ "
                          "http://192.168.1.10:8080)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise OptionError("--station chỉ gồm http://MÁY:CỔNG, không có tên, mật khẩu, ?… hay #…")
    token = (token or "").strip()
    if not token:
        raise OptionError("thiếu mã cụm loa: cho --token MÃ (hoặc biến môi trường BROADCASTER_RECEIVER_TOKEN); "
                          "mã được in ra khi đài chạy `broadcaster receivers add`")
    if len(token) > TOKEN_MAX or any(not (33 <= ord(c) < 127) for c in token):
        raise OptionError("mã cụm loa không hợp lệ (chỉ gồm chữ, số và ký hiệu không dấu, không có khoảng trắng)")
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name or len(name) > NAME_MAX:
        raise OptionError(f"--name phải là tên cụm loa đã đăng ký ở đài, 1 đến {NAME_MAX} ký tự")
    zone = unicodedata.normalize("NFC", zone.strip()) if zone and zone.strip() else None
    if zone is not None:
        try:
            zone_slug(zone)
        except StreamUrlError as exc:
            raise OptionError(f"--zone: {exc}") from None
    return ReceiverOptions(station=url.rstrip("/"), token=token, name=name, zone=zone)


class StationClient:
    """The three endpoints of the receiver API, each one request with a timeout."""

    def __init__(self, options: ReceiverOptions, *, timeout: float = TIMEOUT_S) -> None:
        self.options = options
        self.timeout = timeout
        # straight to the station: a proxy from the environment has no business between them
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _call(self, method: str, path: str, body: Any = None, *, timeout: float | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.options.station + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.options.token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=timeout or self.timeout) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read() if exc.fp is not None else b""
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            text = getattr(reason, "strerror", None) or str(reason)
            raise StationUnreachable(f"không liên lạc được với đài {self.options.station}: {text}") from None
        if status == 401:
            raise StationRefused(Refusal.TOKEN)
        if status == 403:
            raise StationRefused(Refusal.NAME)
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError):
            parsed = None
        return status, parsed

    @staticmethod
    def _detail(answer: Any) -> str:
        detail = answer.get("detail") if isinstance(answer, dict) else None
        return str(detail)[:200] if detail else "không rõ lý do"

    def config(self) -> ReceiverConfig:
        status, answer = self._call("GET", "/api/receiver/config")
        if status != 200:
            raise StationBadAnswer(f"đài trả lời mã {status} khi hỏi cấu hình: {self._detail(answer)}")
        return ReceiverConfig.from_json(answer)

    def status(self, report: dict, *, timeout: float | None = None) -> bool | None:
        """Send a status report; the station's `on_air` (None when it does not say: count silence as dead air)."""
        status, answer = self._call("POST", "/api/receiver/status", report, timeout=timeout)
        if status not in (200, 204):
            raise StationBadAnswer(f"đài không nhận báo cáo trạng thái (mã {status}): {self._detail(answer)}")
        on_air = answer.get("on_air") if isinstance(answer, dict) else None
        return on_air if isinstance(on_air, bool) else None

    def log(self, rows: list[dict], *, timeout: float | None = None) -> int | None:
        """Upload log rows; the station's last_local_id (rows it had already are skipped there)."""
        status, answer = self._call("POST", "/api/receiver/log", {"rows": rows}, timeout=timeout)
        if status != 200 or not isinstance(answer, dict):
            raise StationBadAnswer(f"đài không nhận nhật ký (mã {status}): {self._detail(answer)}")
        last = answer.get("last_local_id")
        return last if isinstance(last, int) and not isinstance(last, bool) else None


__all__ = ["OptionError", "ReceiverConfig", "ReceiverOptions", "Refusal", "StationBadAnswer", "StationClient",
           "StationRefused", "StationUnreachable", "check_options", "LAST_ERROR_MAX"]
