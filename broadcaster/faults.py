"""A background loop's unexpected failure becomes an alarm row, never the end of `serve`.

`report_fault(station, what, exc)` logs the traceback (for the administrator's journal) and writes
one alarm row an officer can read in the log: what failed, in Vietnamese, and the exception's type
only (no library internals, no links). The same fault repeating (a loop failing every few seconds)
gets one row per FAULT_REPEAT_S, not one per turn. It never raises.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)

FAULT_TITLE = "Cảnh báo: lỗi phần mềm"
FAULT_REPEAT_S = 600.0

_lock = threading.Lock()


def report_fault(station, what: str, exc: BaseException) -> bool:
    """Log `exc` raised while doing `what` (Vietnamese, e.g. "dựng trước các bản tin"); write an
    alarm row unless the same fault was written less than FAULT_REPEAT_S ago. Returns whether a row
    was written."""
    log.error("%s failed", what, exc_info=(type(exc), exc, exc.__traceback__))
    key = (what, type(exc).__name__)
    now = time.monotonic()
    with _lock:
        seen = station.__dict__.setdefault("_fault_times", {})  # per station: when each fault was written
        last = seen.get(key)
        if last is not None and now - last < FAULT_REPEAT_S:
            return False
        seen[key] = now
    try:
        station.log_alarm(
            title=FAULT_TITLE,
            reason=f"Lỗi khi {what} ({type(exc).__name__}); đài vẫn chạy tiếp. Chi tiết trong nhật ký hệ thống.",
        )
        return True
    except Exception:  # the database itself may be what fails: the journal has it
        log.exception("could not write the alarm row for: %s", what)
        return False
