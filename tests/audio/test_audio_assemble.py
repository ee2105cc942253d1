"""Assembling intro + gap + speech + gap + outro, with fades at every joint."""

from __future__ import annotations

import numpy as np
import pytest

from audio_helpers import RATE, dominant_hz, speech_like, tone
from broadcaster.audio import apply_fades, assemble_item
from broadcaster.exceptions import AudioError


def _assemble(speech, intro=None, outro=None, gap_ms=500, fade_ms=20):
    return assemble_item(speech, sample_rate=RATE, intro=intro, outro=outro, gap_ms=gap_ms, fade_ms=fade_ms)


def test_layout_and_length_are_exact():
    intro, speech, outro = tone(1000, 1.0), speech_like(2.0), tone(2000, 0.8)
    item = _assemble(speech, intro, outro, gap_ms=500)
    gap = RATE // 2
    assert item.dtype == np.float32
    assert len(item) == len(intro) + gap + len(speech) + gap + len(outro)
    # the gaps are digital silence, the pieces are where they should be
    a = len(intro)
    b = a + gap + len(speech)
    assert not np.any(item[a : a + gap]) and not np.any(item[b : b + gap])
    assert dominant_hz(item[: a // 2]) == pytest.approx(1000, abs=3)
    assert dominant_hz(item[b + gap + 2400 :]) == pytest.approx(2000, abs=3)
    np.testing.assert_allclose(item[a + gap + 2000 : b - 2000], speech[2000:-2000])


def test_without_jingles_the_item_is_the_speech():
    speech = speech_like(1.0)
    item = _assemble(speech, None, None)
    assert len(item) == len(speech)
    np.testing.assert_allclose(item[2000:-2000], speech[2000:-2000])
    empty = np.zeros(0, dtype=np.float32)
    assert len(_assemble(speech, empty, empty)) == len(speech)


def test_every_joint_starts_and_ends_at_zero_even_for_a_step():
    # Pieces that are pure DC offsets are the worst case: unfaded, each joint would be a full step.
    speech = np.full(RATE, 0.5, dtype=np.float32)
    intro = np.ones(RATE // 2, dtype=np.float32) * 0.9
    outro = -np.ones(RATE // 2, dtype=np.float32) * 0.9
    for gap_ms in (0, 300):
        item = _assemble(speech, intro, outro, gap_ms=gap_ms, fade_ms=20)
        assert item[0] == 0.0 and item[-1] == 0.0
        joints = [len(intro), len(intro) + gap_ms * RATE // 1000 + len(speech)]
        for at in joints:
            window = item[at - 48 : at + 48 + gap_ms * RATE // 1000]
            # a 20 ms raised-cosine ramp moves at most 0.9 * pi/2 / 960 per sample
            assert np.max(np.abs(np.diff(window))) < 0.005


def test_fades_are_raised_cosine_and_short_pieces_still_fade():
    y = apply_fades(np.ones(RATE, dtype=np.float32), 960)
    assert y[0] == 0.0 and y[-1] == 0.0 and y[960] == 1.0
    assert np.all(np.diff(y[:960]) >= 0)
    short = apply_fades(np.ones(100, dtype=np.float32), 960)
    assert short[0] == 0.0 and short[-1] == 0.0 and short[50] == pytest.approx(1.0, abs=0.05)
    untouched = apply_fades(np.ones(10, dtype=np.float32), 0)
    assert np.all(untouched == 1.0)


def test_stereo_pieces_are_mixed_to_mono():
    speech = speech_like(1.0)
    item = _assemble(np.stack([speech, speech], axis=1), tone(1000, 0.5)[:, None], None, gap_ms=0)
    assert item.ndim == 1 and len(item) == len(speech) + RATE // 2


def test_non_finite_samples_become_silence():
    speech = speech_like(1.0)
    speech[100:200] = np.nan
    assert np.all(np.isfinite(_assemble(speech)))


@pytest.mark.parametrize("kwargs", [{"gap_ms": -1}, {"fade_ms": -5}])
def test_negative_gap_or_fade_is_refused(kwargs):
    with pytest.raises(AudioError):
        _assemble(speech_like(0.5), **kwargs)


def test_empty_speech_is_refused():
    with pytest.raises(AudioError):
        _assemble(np.zeros(0, dtype=np.float32), tone(1000, 0.5), tone(2000, 0.5))
