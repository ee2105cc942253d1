"""An urgent text longer than a bulletin may be is refused before anything airs (issue 9, item 4)."""

from __future__ import annotations


import pytest

from broadcaster.station.bulletins import MAX_TEXT_CHARS
from broadcaster.exceptions import InputError




def test_too_long_urgent_text_is_refused_before_the_tone(onair, station):
    with pytest.raises(InputError, match=str(MAX_TEXT_CHARS)):
        onair.urgent.request(text="Lũ quét. " * (MAX_TEXT_CHARS // 9 + 10), operator="test")
    assert station.as_run_log() == []  # nothing aired, nothing logged
