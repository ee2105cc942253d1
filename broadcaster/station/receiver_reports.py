"""What a loudspeaker cluster sends the station (issue 14), checked field by field before anything
is stored: its status report and its log rows. Every refusal is one Vietnamese line naming the field
(`MalformedReport`); nothing of a refused request is written.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from ..exceptions import InputError
from ..models import ReceiverLogKind

MAX_LOG_ROWS = 500
MAX_ERROR_CHARS = 300
MAX_NAME_CHARS = 60
MAX_MOUNT_CHARS = 200
MAX_VOLUME = 1.5


class ReceiverState(StrEnum):
    """What a cluster says it is doing."""

    playing = "playing"
    connecting = "connecting"
    dead_air = "dead_air"
    offline = "offline"
    stopped = "stopped"


STATE_LABELS = {
    ReceiverState.playing: "đang phát",
    ReceiverState.connecting: "đang kết nối",
    ReceiverState.dead_air: "luồng im lặng",
    ReceiverState.offline: "mất luồng",
    ReceiverState.stopped: "đã dừng",
}


class MalformedReport(InputError):
    """A report or log upload that cannot be stored; str() is one line naming the field."""


@dataclass(frozen=True)
class StatusReport:
    name: str
    zone: str | None
    state: ReceiverState
    mount: str | None
    buffer_s: float
    volume: float
    last_error: str | None
    sent_at: datetime

    def as_json(self, received_at: datetime) -> dict[str, Any]:
        return {
            "name": self.name, "zone": self.zone, "state": self.state.value, "mount": self.mount,
            "buffer_s": self.buffer_s, "volume": self.volume, "last_error": self.last_error,
            "sent_at": self.sent_at.isoformat(), "received_at": received_at.isoformat(),
        }


@dataclass(frozen=True)
class LogRowIn:
    local_id: int
    started_at: datetime
    ended_at: datetime | None
    kind: ReceiverLogKind
    mount: str | None
    cause: str | None


def _bad(field: str, what: str) -> MalformedReport:
    return MalformedReport(f"Trường «{field}» {what}.")


def _object(body: Any, what: str) -> dict:
    if not isinstance(body, dict):
        raise MalformedReport(f"{what} phải là một đối tượng JSON.")
    return body


def _text(body: dict, field: str, *, limit: int, required: bool = False, prefix: str = "") -> str | None:
    label = prefix + field
    if field not in body or body[field] is None:
        if required:
            raise _bad(label, "bị thiếu")
        return None
    value = body[field]
    if not isinstance(value, str):
        raise _bad(label, "phải là chuỗi chữ")
    value = " ".join(unicodedata.normalize("NFC", value).split())  # one line
    if required and not value:
        raise _bad(label, "không được để trống")
    if len(value) > limit:
        raise _bad(label, f"dài quá {limit} ký tự")
    return value or None


def _number(body: dict, field: str, *, low: float, high: float | None = None) -> float:
    if field not in body or body[field] is None:
        raise _bad(field, "bị thiếu")
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(field, "phải là một số")
    if value < low or (high is not None and value > high):
        limit = f"từ {low:g} đến {high:g}" if high is not None else f"không nhỏ hơn {low:g}"
        raise _bad(field, f"phải {limit} (nhận được {value:g})")
    return float(value)


def _when(body: dict, field: str, *, required: bool, prefix: str = "") -> datetime | None:
    label = prefix + field
    if field not in body or body[field] is None:
        if required:
            raise _bad(label, "bị thiếu")
        return None
    value = body[field]
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(label, "phải là thời điểm ISO-8601 có múi giờ (2026-12-01T07:00:00+07:00)") from None
    if parsed.tzinfo is None:
        raise _bad(label, "phải có múi giờ (ví dụ +07:00)")
    return parsed.astimezone(timezone.utc)


def parse_status(body: Any) -> StatusReport:
    """A status report (POST /api/receiver/status), or MalformedReport naming the first bad field."""
    body = _object(body, "Báo cáo trạng thái")
    name = _text(body, "name", limit=MAX_NAME_CHARS, required=True)
    zone = _text(body, "zone", limit=40)
    state_text = body.get("state")
    if state_text is None:
        raise _bad("state", "bị thiếu")
    try:
        state = ReceiverState(state_text) if isinstance(state_text, str) else None
    except ValueError:
        state = None
    if state is None:
        raise _bad("state", "phải là một trong " + ", ".join(s.value for s in ReceiverState))
    return StatusReport(
        name=name,
        zone=zone,
        state=state,
        mount=_text(body, "mount", limit=MAX_MOUNT_CHARS),
        buffer_s=_number(body, "buffer_s", low=0.0),
        volume=_number(body, "volume", low=0.0, high=MAX_VOLUME),
        last_error=_text(body, "last_error", limit=MAX_ERROR_CHARS),
        sent_at=_when(body, "sent_at", required=True),
    )


def parse_log(body: Any) -> list[LogRowIn]:
    """A log upload (POST /api/receiver/log): its rows, or MalformedReport naming the row and field."""
    body = _object(body, "Nhật ký gửi lên")
    rows = body.get("rows")
    if not isinstance(rows, list):
        raise _bad("rows", "phải là một danh sách")
    if len(rows) > MAX_LOG_ROWS:
        raise _bad("rows", f"có quá {MAX_LOG_ROWS} dòng một lần ({len(rows)})")
    out: list[LogRowIn] = []
    for number, raw in enumerate(rows, start=1):
        prefix = f"rows[{number}]."
        row = _object(raw, f"Dòng {number} của nhật ký")
        local_id = row.get("local_id")
        if isinstance(local_id, bool) or not isinstance(local_id, int) or local_id <= 0:
            raise _bad(prefix + "local_id", "phải là số nguyên dương")
        kind_text = row.get("kind")
        try:
            kind = ReceiverLogKind(kind_text) if isinstance(kind_text, str) else None
        except ValueError:
            kind = None
        if kind is None:
            raise _bad(prefix + "kind", "phải là heard hoặc gap")
        started = _when(row, "started_at", required=True, prefix=prefix)
        ended = _when(row, "ended_at", required=False, prefix=prefix)
        if ended is not None and ended < started:
            raise _bad(prefix + "ended_at", "phải sau started_at")
        out.append(LogRowIn(
            local_id=local_id, started_at=started, ended_at=ended, kind=kind,
            mount=_text(row, "mount", limit=MAX_MOUNT_CHARS, prefix=prefix),
            cause=_text(row, "cause", limit=MAX_ERROR_CHARS, prefix=prefix),
        ))
    return out


__all__ = ["LogRowIn", "MalformedReport", "ReceiverState", "STATE_LABELS", "StatusReport", "parse_log", "parse_status",
           "MAX_LOG_ROWS"]
