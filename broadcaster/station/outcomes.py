"""The one place the as-run log's words are made from what happened on air.

The player returns a typed PlayResult (playout.outcome); this module turns it into the
as-run status and the Vietnamese reason an officer reads. No other layer writes these
words or reads them back to learn what happened: code asks `result.outcome`.
"""

from __future__ import annotations

from ..models import AsRunStatus
from ..playout.outcome import DeviceFault, Outcome, PlayResult

# reasons written into as-run rows (what an officer reads in the log); the wordings are the
# ones earlier releases wrote, so old and new rows read alike
URGENT_CUT_REASON = "Bị ngắt để phát thông báo khẩn cấp"
URGENT_STOP_REASON = "Dừng thông báo khẩn cấp theo lệnh trực đài"
URGENT_SHUTDOWN_REASON = "Dừng thông báo khẩn cấp do tắt đài"
SKIP_REASON = "Bỏ qua theo lệnh trực đài"
STOP_PROGRAMME_REASON = "Dừng chương trình theo lệnh trực đài"
INTERRUPTED_REASON = "Bị ngắt"
STREAM_STOPPED = "Luồng âm thanh bị dừng (thiết bị bị rút ra hoặc lỗi) / the output stream stopped"
STREAM_STALLED = "Thiết bị âm thanh ngừng nhận dữ liệu / the sound card stopped taking audio"
NOT_OPEN = "Thiết bị âm thanh chưa được mở / the output stream is not open"
CLOSED_WHILE_PLAYING = "Đã đóng thiết bị âm thanh khi đang phát"
TIMEOUT_PREFIX = "Quá thời gian phát"
SILENCE_PREFIX = "Im lặng trên sóng"

_CAUSE_REASONS = {
    Outcome.URGENT_CUT: URGENT_CUT_REASON,
    Outcome.URGENT_STOPPED: URGENT_STOP_REASON,
    Outcome.URGENT_SHUTDOWN: URGENT_SHUTDOWN_REASON,
    Outcome.SKIPPED: SKIP_REASON,
    Outcome.PROGRAMME_STOPPED: STOP_PROGRAMME_REASON,
    Outcome.INTERRUPTED: INTERRUPTED_REASON,
    Outcome.CLOSED: CLOSED_WHILE_PLAYING,
}

_FAULT_TEXTS = {
    DeviceFault.STOPPED: STREAM_STOPPED,
    DeviceFault.STALLED: STREAM_STALLED,
    DeviceFault.CLOSED: CLOSED_WHILE_PLAYING,
}

_INTERRUPTED = frozenset(_CAUSE_REASONS) | {Outcome.TIMEOUT}


def as_run_status(outcome: Outcome) -> AsRunStatus:
    """The as-run status of an item that ended with `outcome`: aired, interrupted or failed."""
    if outcome is Outcome.AIRED:
        return AsRunStatus.aired
    if outcome in _INTERRUPTED:
        return AsRunStatus.interrupted
    return AsRunStatus.failed


def silence_reason(seconds: float) -> str:
    """How a silence fault is worded in the as-run log."""
    return f"{SILENCE_PREFIX} quá {seconds:g} giây"


def fault_text(fault: DeviceFault | None) -> str | None:
    """How a lost output is worded (alarm rows of a device gap, a failed item's reason)."""
    return _FAULT_TEXTS.get(fault) if fault is not None else None


def reason_text(result: PlayResult) -> str | None:
    """The as-run reason for a played item (None for an item that simply aired)."""
    outcome = result.outcome
    if outcome is Outcome.AIRED:
        if result.underruns:
            return f"Thiếu dữ liệu {result.underruns} lần khi phát (underrun)"
        return None
    if outcome in _CAUSE_REASONS:
        return _CAUSE_REASONS[outcome]
    if outcome is Outcome.TIMEOUT:
        return f"{TIMEOUT_PREFIX} ({result.seconds or 0:g} s)"
    if outcome is Outcome.SILENCE:
        return silence_reason(result.seconds or 0)
    if outcome is Outcome.DEVICE_LOST:
        return fault_text(result.fault) or STREAM_STOPPED
    if outcome is Outcome.NOT_OPEN:
        return NOT_OPEN
    if outcome is Outcome.NO_SIGNAL:
        return f"Không nhận được âm thanh từ {result.detail} sau {result.seconds or 0:g} giây"
    if outcome is Outcome.ENDED_EARLY:
        return (
            f"Luồng tiếp sóng kết thúc sớm sau {result.seconds or 0:.0f} giây "
            f"(đặt {result.planned_s or 0:.0f} giây)"
        )
    if outcome is Outcome.PLAYOUT_ERROR:
        return f"Lỗi trong luồng phát: {result.detail}"
    return result.detail or "Lỗi phát"  # Outcome.FAILED: the reader's own (Vietnamese) error


__all__ = [
    "CLOSED_WHILE_PLAYING",
    "NOT_OPEN",
    "SILENCE_PREFIX",
    "SKIP_REASON",
    "STOP_PROGRAMME_REASON",
    "STREAM_STALLED",
    "STREAM_STOPPED",
    "TIMEOUT_PREFIX",
    "URGENT_CUT_REASON",
    "URGENT_SHUTDOWN_REASON",
    "URGENT_STOP_REASON",
    "as_run_status",
    "fault_text",
    "reason_text",
    "silence_reason",
]
