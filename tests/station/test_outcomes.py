"""station/outcomes.py: the one place the as-run words are made from a typed outcome.

The wordings are those earlier releases wrote (copied here as literals, so a change to any of
them fails), and no other module compares reason strings or probes a player to learn what
happened on air.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from broadcaster.models import AsRunStatus
from broadcaster.playout.outcome import DeviceFault, Outcome, PlayResult
from broadcaster.station.outcomes import as_run_status, fault_text, reason_text

NOW = datetime(2026, 11, 28, 6, tzinfo=timezone.utc)
PACKAGE = Path(__file__).resolve().parents[2] / "broadcaster"


def result(outcome: Outcome, **fields) -> PlayResult:
    return PlayResult(outcome, 0, NOW, NOW, **fields)


@pytest.mark.parametrize(
    ("played", "status", "reason"),
    [
        (result(Outcome.AIRED), "aired", None),
        (result(Outcome.AIRED, underruns=3), "aired", "Thiếu dữ liệu 3 lần khi phát (underrun)"),
        (result(Outcome.URGENT_CUT), "interrupted", "Bị ngắt để phát thông báo khẩn cấp"),
        (result(Outcome.URGENT_STOPPED), "interrupted", "Dừng thông báo khẩn cấp theo lệnh trực đài"),
        (result(Outcome.URGENT_SHUTDOWN), "interrupted", "Dừng thông báo khẩn cấp do tắt đài"),
        (result(Outcome.SKIPPED), "interrupted", "Bỏ qua theo lệnh trực đài"),
        (result(Outcome.PROGRAMME_STOPPED), "interrupted", "Dừng chương trình theo lệnh trực đài"),
        (result(Outcome.INTERRUPTED), "interrupted", "Bị ngắt"),
        (result(Outcome.CLOSED), "interrupted", "Đã đóng thiết bị âm thanh khi đang phát"),
        (result(Outcome.TIMEOUT, seconds=1200.0), "interrupted", "Quá thời gian phát (1200 s)"),
        (result(Outcome.TIMEOUT, seconds=0.3), "interrupted", "Quá thời gian phát (0.3 s)"),
        (result(Outcome.SILENCE, seconds=1.5), "failed", "Im lặng trên sóng quá 1.5 giây"),
        (
            result(Outcome.DEVICE_LOST, fault=DeviceFault.STOPPED),
            "failed",
            "Luồng âm thanh bị dừng (thiết bị bị rút ra hoặc lỗi) / the output stream stopped",
        ),
        (
            result(Outcome.DEVICE_LOST, fault=DeviceFault.STALLED),
            "failed",
            "Thiết bị âm thanh ngừng nhận dữ liệu / the sound card stopped taking audio",
        ),
        (
            result(Outcome.DEVICE_LOST, fault=DeviceFault.CLOSED),
            "failed",
            "Đã đóng thiết bị âm thanh khi đang phát",
        ),
        (result(Outcome.NOT_OPEN), "failed", "Thiết bị âm thanh chưa được mở / the output stream is not open"),
        (
            result(Outcome.NO_SIGNAL, detail="micro", seconds=15.0),
            "failed",
            "Không nhận được âm thanh từ micro sau 15 giây",
        ),
        (
            result(Outcome.ENDED_EARLY, seconds=42.4, planned_s=1200.0),
            "failed",
            "Luồng tiếp sóng kết thúc sớm sau 42 giây (đặt 1200 giây)",
        ),
        (result(Outcome.PLAYOUT_ERROR, detail="ValueError('x')"), "failed", "Lỗi trong luồng phát: ValueError('x')"),
        (result(Outcome.FAILED, detail="Không tìm thấy tệp âm thanh: /a.wav"), "failed", "Không tìm thấy tệp âm thanh: /a.wav"),
    ],
    ids=lambda v: v.outcome.value if isinstance(v, PlayResult) else None,
)
def test_status_and_reason_keep_todays_wordings(played, status, reason):
    assert as_run_status(played.outcome) == AsRunStatus(status)
    assert reason_text(played) == reason


def test_every_outcome_has_a_status_and_a_reason_unless_aired():
    for outcome in Outcome:
        text = reason_text(result(outcome, detail="d", seconds=1.0, planned_s=2.0, fault=DeviceFault.STOPPED))
        assert (text is None) == (outcome is Outcome.AIRED), outcome
        assert as_run_status(outcome) in (AsRunStatus.aired, AsRunStatus.interrupted, AsRunStatus.failed)


def test_device_gap_wordings():
    assert fault_text(DeviceFault.STALLED) == "Thiết bị âm thanh ngừng nhận dữ liệu / the sound card stopped taking audio"
    assert fault_text(None) is None


# what "learning what happened from a string" or "probing a player" looked like in the tree
FORBIDDEN = [
    (re.compile(r"getattr\(\s*(self\.)?player\b"), "a getattr probe on a player"),
    (re.compile(r"hasattr\(\s*(self\.)?player\b"), "a hasattr probe on a player"),
    (re.compile(r"\.startswith\(\s*(RELAY_TIMEOUT_PREFIX|STREAM_TIMEOUT_PREFIX|SILENCE_PREFIX|TIMEOUT_PREFIX)"),
     "a reason compared by prefix"),
    (re.compile(r"reason\s*==\s*(URGENT_CUT_REASON|SKIP_REASON|STOP_PROGRAMME_REASON)"), "a reason compared"),
    (re.compile(r"result\.(status|reason)\b"), "a player result read as strings"),
]


def test_no_layer_compares_reason_strings_or_probes_the_player():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern, what in FORBIDDEN:
                if pattern.search(line):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {what}: {line.strip()}")
    assert found == []
