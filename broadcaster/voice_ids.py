"""Engine names and voice ids as settings see them (issue 12): checked when settings load.

A voice id is ``engine:voice`` with a known engine: ``edge:vi-VN-HoaiMyNeural``,
``piper:vi_VN-vais1000-medium``, ``espeak:vi``, ``gtts:vi``. Whether that voice is installed
is the speech layer's question (speech/voices.py), asked when a bulletin names it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

KNOWN_ENGINES = ("edge", "gtts", "piper", "espeak")
# engines that need the Internet: never asked at air time or for an urgent message
ONLINE_ENGINES = ("edge", "gtts")
RATE_RANGE = (0.5, 2.0)  # a voice's speaking rate, as a multiple of its own speed


def check_voice_id(value: str | None) -> str | None:
    """The id itself (None stays None); ValueError with one Vietnamese line when malformed."""
    if value is None:
        return None
    engine, sep, voice = value.partition(":")
    if not sep or not voice.strip() or engine not in KNOWN_ENGINES:
        raise ValueError(f"giọng '{value}' phải có dạng máy:giọng, máy là một trong {', '.join(KNOWN_ENGINES)}")
    return value


def check_voice_rates(value: dict[str, float]) -> dict[str, float]:
    """Every key a voice id, every rate within RATE_RANGE; gTTS has no speed to set."""
    low, high = RATE_RANGE
    for voice, rate in value.items():
        check_voice_id(voice)
        if voice.startswith("gtts:"):
            raise ValueError(f"{voice}: gTTS không đổi được tốc độ (chỉ có gtts_slow)")
        if not (low <= rate <= high):  # NaN too
            raise ValueError(f"{voice}: tốc độ phải từ {low:g} đến {high:g}, không phải {rate:g}")
    return value


VoiceId = Annotated[str | None, AfterValidator(check_voice_id)]
VoiceRates = Annotated[dict[str, float], AfterValidator(check_voice_rates)]
