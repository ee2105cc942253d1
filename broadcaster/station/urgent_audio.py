"""The audio of an urgent announcement: the attention tone and an officer's recording, made ready
for the player (loudness-normalized, cached by content)."""

from __future__ import annotations

from pathlib import Path


def prepare_attention_tone(settings) -> Path:
    """The attention tone as a 16-bit WAV at the output rate: the file itself when it already
    is one, else a loudness-normalized copy made once in the cache. AudioError says why not."""
    from ..audio import builtin_asset
    from ..audio.files import _is_plain_wav

    source = Path(settings.attention_tone) if settings.attention_tone else builtin_asset("attention")
    if _is_plain_wav(source, settings.sample_rate):
        return source
    return _normalized_copy(settings, source, "tone")


def prepare_recording(settings, source: Path) -> Path:
    """An officer's recording (MP3/WAV/M4A…) decoded and loudness-normalized to the station
    target, cached by content. AudioError when it is not audio."""
    return _normalized_copy(settings, Path(source), "recording")


def _normalized_copy(settings, source: Path, what: str) -> Path:
    from .items import (
        normalized_copy,  # the one "convert once into the cache" path (same file names)
    )

    return normalized_copy(settings, source, what)


__all__ = ["prepare_attention_tone", "prepare_recording"]
