"""Rendering a program item file: load, level the jingles, assemble, normalize, write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import media
from .assemble import assemble_item
from .assets import builtin_asset
from .files import load_audio
from .loudness import FLOOR_DB, measure, normalize_loudness


@dataclass(frozen=True)
class ItemInfo:
    """What was written: the file, its length and its measured loudness and true peak."""

    path: Path
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float


def render_item(speech_path: Path, out_path: Path, *, settings, jingles: bool = True) -> ItemInfo:
    """Render speech (any format, any rate) into a program item WAV at ``out_path``.

    Intro/outro come from ``settings.intro_jingle``/``outro_jingle`` or the built-in ones;
    each jingle is first brought to the speech's loudness, so a station's own (often much
    louder) jingle does not push the speech down. The whole item is then normalized to
    ``settings.target_lufs`` / ``settings.true_peak_dbtp`` and written atomically as
    16-bit mono at ``settings.sample_rate``. The figures returned are measured on the
    file read back from disk. Raises AudioError when an input cannot be read.
    """
    rate = settings.sample_rate
    speech = load_audio(speech_path, sample_rate=rate)
    intro = outro = None
    if jingles:
        intro = load_audio(settings.intro_jingle or builtin_asset("intro"), sample_rate=rate)
        outro = load_audio(settings.outro_jingle or builtin_asset("outro"), sample_rate=rate)
        speech_lufs = measure(speech, rate).integrated_lufs
        if speech_lufs > FLOOR_DB:  # silent speech: nothing to match, the final pass levels the jingles
            intro = _match_loudness(intro, rate, speech_lufs)
            outro = _match_loudness(outro, rate, speech_lufs)
    item = assemble_item(
        speech,
        sample_rate=rate,
        intro=intro,
        outro=outro,
        gap_ms=settings.jingle_gap_ms,
        fade_ms=settings.fade_ms,
    )
    item = normalize_loudness(
        item, sample_rate=rate, target_lufs=settings.target_lufs, true_peak_dbtp=settings.true_peak_dbtp
    )
    out_path = media.write_wav(out_path, item, sample_rate=rate)
    written, written_rate = media.read_wav(out_path)
    figures = measure(written, written_rate)
    return ItemInfo(
        path=out_path,
        duration_s=len(written) / written_rate,
        integrated_lufs=figures.integrated_lufs,
        true_peak_dbtp=figures.true_peak_dbtp,
    )


def _match_loudness(jingle: np.ndarray, sample_rate: int, reference_lufs: float) -> np.ndarray:
    """Plain gain so the jingle is as loud as the speech; its peaks are left to the final limiter."""
    lufs = measure(jingle, sample_rate).integrated_lufs
    if lufs <= FLOOR_DB:
        return jingle
    return (jingle * 10.0 ** ((reference_lufs - lufs) / 20.0)).astype(np.float32)
