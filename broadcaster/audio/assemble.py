"""Assembling a program item: intro jingle, gap, speech, gap, outro jingle.

Every piece is faded in and out with a raised-cosine ramp, so every joint starts and ends
at zero: a loudspeaker horn turns a step into a loud click, and a joint may fall between
two files whose DC offsets and phases never matched.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import AudioError


def assemble_item(
    speech: np.ndarray,
    *,
    sample_rate: int,
    intro: np.ndarray | None,
    outro: np.ndarray | None,
    gap_ms: int,
    fade_ms: int,
) -> np.ndarray:
    """Join intro + gap + speech + gap + outro into one mono float32 signal.

    All inputs must already be at ``sample_rate`` (mono, or (frames, channels) which is
    averaged to mono). A missing or empty jingle is left out together with its gap. Each
    piece gets a ``fade_ms`` fade-in and fade-out (shortened to half the piece when the
    piece is shorter); 0 means no fade. The result is exactly
    len(intro) + gap + len(speech) + gap + len(outro) frames long; loudness is not touched.
    Raises AudioError for empty speech or negative gap/fade.
    """
    if gap_ms < 0 or fade_ms < 0:
        raise AudioError(f"Khoảng lặng/fade âm không hợp lệ (gap={gap_ms} ms, fade={fade_ms} ms)")
    body = _mono(speech)
    if body.size == 0:
        raise AudioError("Âm thanh lời đọc trống / empty speech audio")
    fade = _frames(fade_ms, sample_rate)
    gap = np.zeros(_frames(gap_ms, sample_rate), dtype=np.float32)

    parts: list[np.ndarray] = []
    if intro is not None and np.asarray(intro).size:
        parts += [apply_fades(_mono(intro), fade), gap]
    parts.append(apply_fades(body, fade))
    if outro is not None and np.asarray(outro).size:
        parts += [gap, apply_fades(_mono(outro), fade)]
    return np.concatenate(parts).astype(np.float32)


def apply_fades(samples: np.ndarray, fade_frames: int) -> np.ndarray:
    """Return a float32 copy with a raised-cosine fade-in and fade-out of ``fade_frames`` each.

    The first and last samples become exactly zero. A piece shorter than two fades gets
    two half-length fades, so it still starts and ends silent.
    """
    y = np.array(samples, dtype=np.float32, copy=True)
    n = min(int(fade_frames), len(y) // 2)
    if n <= 0:
        return y
    # sin² rises from exactly 0 to just under 1 with zero slope at both ends, which keeps the
    # ramp itself inaudible (a linear ramp's corners are audible on short fades).
    ramp = np.sin(0.5 * np.pi * np.arange(n) / n).astype(np.float32) ** 2
    y[:n] *= ramp
    y[len(y) - n :] *= ramp[::-1]
    return y


def _mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    elif x.ndim != 1:
        raise AudioError(f"Dữ liệu âm thanh có dạng không hợp lệ {x.shape} / bad audio shape")
    # A non-finite sample would survive the fades and poison the loudness measurement later.
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def _frames(ms: int | float, sample_rate: int) -> int:
    return int(round(ms * sample_rate / 1000.0))
