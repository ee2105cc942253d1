"""The speech-engine boundary: one small protocol and the audio it returns.

Every engine (gTTS online, espeak-ng offline, fakes in the tests) turns one piece of
already-normalized text into mono float samples. Splitting, joining, caching and the
fallback chain live in ``synth.py``, so an engine only has to do one thing well and
report failure as :class:`~broadcaster.exceptions.SpeechError`.

This is the bottom of speech/: the adapters import it, and ``engines.py`` (the registry
that builds them) imports the adapters, so nothing here imports an engine library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Speech:
    """Synthesized audio: mono float32 samples in [-1, 1] at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0



def decoded_reply(data: bytes, *, sample_rate: int, service: str, engine: str) -> Speech:
    """An online service's compressed reply (MP3) as Speech at ``sample_rate``; SpeechError naming the
    ``service`` ("Google TTS") when it does not decode or holds no audio."""
    from ..exceptions import BroadcasterError, SpeechError
    from ..media import decode

    try:
        samples = decode(data, sample_rate=sample_rate)
    except BroadcasterError as exc:
        raise SpeechError(f"{service} trả về âm thanh hỏng: {exc}", engine=engine) from exc
    if samples.size == 0:
        raise SpeechError(f"{service} trả về âm thanh rỗng / empty audio", engine=engine)
    return Speech(samples=samples.astype("float32", copy=False), sample_rate=sample_rate)

@runtime_checkable
class SpeechEngine(Protocol):
    """One text-to-speech engine.

    ``name`` is the key used in ``settings.engine_order`` ("edge", "gtts", "piper", "espeak").
    An engine with several voices also has ``voices()`` (name → label) and
    ``with_voice(name, rate=)`` (a copy speaking that voice); see ``voices.py``.
    """

    name: str

    def identity(self) -> dict[str, object]:
        """Everything that changes the sound (voice, language, rate, pitch, library version…).

        JSON-serializable and cheap (it must not load the engine or touch the network):
        it is part of the render-cache key, so two engines with equal identities must
        produce interchangeable audio for the same text.
        """
        ...

    def synthesize(self, text: str) -> Speech:
        """Speak one piece of text (at most ``settings.speech_chunk_chars`` characters).

        Returns non-empty mono audio. Raises SpeechError on any failure (network, missing
        voice, empty output); never returns silence in place of an error.
        """
        ...


@dataclass(frozen=True)
class SpeechResult:
    """What ``Synthesizer.speak`` produced.

    ``path`` is a 16-bit mono PCM WAV in the render cache at the engine's own rate (the item
    render resamples it once, as it writes the item). A JSON sidecar with the same stem
    (``.json``) records engine, identity, spoken text, rate, loudness and creation time.
    ``probe_sample``: the item probe's sample of a long speech just made (audio.probe.Sample),
    kept in memory only; None for a cache hit or a short speech.
    """

    path: Path
    engine: str
    spoken_text: str
    cached: bool
    failures: tuple[str, ...] = ()
    voice: str | None = None  # engine:voice that spoke it (edge:vi-VN-HoaiMyNeural)
    probe_sample: object | None = field(default=None, repr=False, compare=False)
