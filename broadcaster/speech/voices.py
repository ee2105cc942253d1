"""Voices: "engine:voice" ids, the voices the built engines offer, and an engine set to one.

A voice id names the engine and its voice, e.g. ``edge:vi-VN-HoaiMyNeural``,
``piper:vi_VN-vais1000-medium``, ``espeak:vi``, ``gtts:vi``. An engine may offer several voices
(``voices()``: name → label) and give a copy of itself speaking one at a speed
(``with_voice(name, rate=)``); an engine without those methods speaks only the voice it was
built with (its ``voice`` attribute, or its identity's ``voice``/``lang``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import InputError
from ..voice_ids import ONLINE_ENGINES
from .base import SpeechEngine


@dataclass(frozen=True)
class Voice:
    """One voice an editor can choose."""

    id: str  # engine:voice
    engine: str
    name: str
    label: str
    online: bool


def split_voice_id(voice_id: str) -> tuple[str, str]:
    """``"edge:vi-VN-HoaiMyNeural"`` → ``("edge", "vi-VN-HoaiMyNeural")``; InputError if malformed."""
    engine, sep, name = (voice_id or "").strip().partition(":")
    if not sep or not engine or not name.strip():
        raise InputError(f"Giọng '{voice_id}' phải có dạng máy:giọng (vd. edge:vi-VN-HoaiMyNeural)", voice=voice_id)
    return engine, name.strip()


def voice_name(engine: SpeechEngine) -> str:
    """The voice an engine is set to speak."""
    name = getattr(engine, "voice", None)
    if isinstance(name, str) and name:
        return name
    try:
        identity = engine.identity()
    except Exception:  # a broken identity only hides the name
        identity = {}
    return str(identity.get("voice") or identity.get("lang") or "default")


def voice_id(engine: SpeechEngine) -> str:
    """``engine:voice`` for what an engine is set to speak."""
    return f"{engine.name}:{voice_name(engine)}"


def _offered(engine: SpeechEngine) -> dict[str, str]:
    offered = getattr(engine, "voices", None)
    if callable(offered):
        try:
            voices = dict(offered())
        except Exception:  # an engine that cannot list its voices offers the one it has
            voices = {}
        if voices:
            return voices
    name = voice_name(engine)
    return {name: f"{engine.name} {name}"}


def available_voices(engines: dict[str, SpeechEngine], order: list[str] | None = None) -> list[Voice]:
    """Every voice the built engines offer, in ``order`` (when given, only the engines in it:
    the station's order says which engines it uses; one left out is not offered)."""
    names = [n for n in order if n in engines] if order is not None else list(engines)
    voices: list[Voice] = []
    for name in names:
        for voice, label in _offered(engines[name]).items():
            voices.append(Voice(id=f"{name}:{voice}", engine=name, name=voice, label=label, online=name in ONLINE_ENGINES))
    return voices


def engine_for_voice(engines: dict[str, SpeechEngine], voice_id: str, *, rate: float | None = None) -> SpeechEngine:
    """The built engine of ``voice_id`` set to speak that voice (at ``rate``, when given).

    InputError when the engine is not built here or does not have the voice.
    """
    engine_name, name = split_voice_id(voice_id)
    engine = engines.get(engine_name)
    if engine is None:
        known = ", ".join(engines) or "không có"
        raise InputError(f"Không có máy đọc '{engine_name}' cho giọng {voice_id} (có: {known})", voice=voice_id)
    with_voice = getattr(engine, "with_voice", None)
    if name == voice_name(engine) and (rate is None or not callable(with_voice)):
        return engine
    if not callable(with_voice):
        raise InputError(f"Máy đọc '{engine_name}' không có giọng '{name}'", voice=voice_id)
    return with_voice(name, rate=1.0 if rate is None else rate)
