"""faults.report_fault writes through the as-run log it is given and keeps its repeat suppression
per log, not in the caller's attributes (issue #10 item 1: no facade state)."""

from __future__ import annotations

from broadcaster.faults import FAULT_TITLE, report_fault


class FakeLog:
    """Anything with log_alarm: records the rows it was asked to write."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []

    def log_alarm(self, *, title: str, reason: str, **fields) -> None:
        self.rows.append((title, reason))


def test_a_repeated_fault_is_written_once_per_log_and_leaves_the_log_untouched():
    first, second = FakeLog(), FakeLog()
    assert report_fault(first, "dựng trước các bản tin", RuntimeError("x")) is True
    assert report_fault(first, "dựng trước các bản tin", RuntimeError("y")) is False  # the same fault again
    assert report_fault(second, "dựng trước các bản tin", RuntimeError("z")) is True  # another log: its own row
    assert first.rows == [(FAULT_TITLE, "Lỗi khi dựng trước các bản tin (RuntimeError); đài vẫn chạy tiếp. "
                                        "Chi tiết trong nhật ký hệ thống.")]
    assert len(second.rows) == 1
    assert vars(first) == {"rows": first.rows}  # no suppression state stored on the log itself
