"""A background loop's unexpected failure becomes an alarm row, never the end of `serve`.

`report_fault(asrun, what, exc)` logs the traceback (for the administrator's journal) and writes
one alarm row an officer can read in the log: what failed, in Vietnamese, and the exception's type
only (no library internals, no links). The same fault repeating (a loop failing every few seconds)
gets one row per FAULT_REPEAT_S, not one per turn (counted per as-run log). It never raises.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

log = logging.getLogger(__name__)

FAULT_TITLE = "Cảnh báo: lỗi phần mềm"
FAULT_REPEAT_S = 600.0

_lock = threading.Lock()
# per as-run log: when each (what, exception type) fault was last written
_fault_times: weakref.WeakKeyDictionary[object, dict[tuple[str, str], float]] = weakref.WeakKeyDictionary()


def report_fault(asrun, what: str, exc: BaseException) -> bool:
    """Log `exc` raised while doing `what` (Vietnamese, e.g. "dựng trước các bản tin"); write an
    alarm row through `asrun` (anything with `log_alarm`: the as-run log) unless the same fault was
    written there less than FAULT_REPEAT_S ago. Returns whether a row was written."""
    log.error("%s failed", what, exc_info=(type(exc), exc, exc.__traceback__))
    key = (what, type(exc).__name__)
    now = time.monotonic()
    with _lock:
        try:
            seen = _fault_times.setdefault(asrun, {})
        except TypeError:  # a log that cannot be weakly referenced: no repeat suppression for it
            seen = {}
        last = seen.get(key)
        if last is not None and now - last < FAULT_REPEAT_S:
            return False
        seen[key] = now
    try:
        asrun.log_alarm(
            title=FAULT_TITLE,
            reason=f"Lỗi khi {what} ({type(exc).__name__}); đài vẫn chạy tiếp. Chi tiết trong nhật ký hệ thống.",
        )
        return True
    except Exception:  # the database itself may be what fails: the journal has it
        log.exception("could not write the alarm row for: %s", what)
        return False
