"""An urgent request and how far it got (`UrgentJob`), and the checks on what a request asks for."""

from __future__ import annotations

import math
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..exceptions import InputError

MAX_EVERY_MIN = 24 * 60  # a repeat interval longer than a day is a typing mistake, not a plan


@dataclass
class UrgentJob:
    """One urgent request and how far it got. `public()` is what the API and CLI show."""

    id: int
    source: str  # "text" | "file" | "mic"
    label: str
    repeat: int
    every_min: float | None
    operator: str | None
    requested_at: datetime
    state: str = "pending"  # pending → on_air → waiting → done | failed | stopped
    airings: int = 0
    row_ids: list[int] = field(default_factory=list)
    error: str | None = None
    archive_path: str | None = None
    engine: str | None = None  # typed text: the engine and engine:voice that spoke it
    voice: str | None = None
    zones: list[str] | None = None  # some zones only (issue 14): their names; None = every cluster
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    stop_event: threading.Event = field(default_factory=threading.Event, repr=False)
    prepared: Future = field(default_factory=Future, repr=False)  # the message file, made in its own thread

    @property
    def finished(self) -> bool:
        return self.done.is_set()

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "label": self.label,
            "repeat": self.repeat,
            "every_min": self.every_min,
            "operator": self.operator,
            "requested_at": _iso_ms(self.requested_at),
            "state": self.state,
            "airings": self.airings,
            "rows": list(self.row_ids),
            "error": self.error,
            "archive": self.archive_path,
            "zones": list(self.zones) if self.zones else None,
        }


def _iso_ms(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds") if value else None


def check_every_min(value: Any) -> float | None:
    """The minutes between airings of a repeated urgent message: a finite number above 0 and at
    most MAX_EVERY_MIN (None when not given; "" from a form counts as not given). InputError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InputError(f"Khoảng cách giữa các lần phát '{value}' không hợp lệ")
    try:
        minutes = float(value.replace(",", ".").strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"Khoảng cách giữa các lần phát '{value}' không hợp lệ") from None
    if not (math.isfinite(minutes) and 0 < minutes <= MAX_EVERY_MIN):
        raise InputError(
            f"Khoảng cách giữa các lần phát (phút) phải lớn hơn 0 và không quá {MAX_EVERY_MIN} phút (24 giờ)"
        )
    return minutes


def _clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    import unicodedata

    return unicodedata.normalize("NFC", text).strip()


__all__ = ["UrgentJob", "MAX_EVERY_MIN", "check_every_min"]
