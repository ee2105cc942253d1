"""The engine registry: the real speech engines, built from settings.

The types every engine shares (``Speech``, ``SpeechEngine``, ``SpeechResult``) live in
``base.py``, which the adapters import; this module imports the adapters, and lazily, so
that code which only needs the types (the service, the tests' fakes) never pays for
importing gTTS/requests, edge-tts/aiohttp or loading libespeak-ng.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from .base import SpeechEngine


def build_engines(settings: Settings) -> dict[str, SpeechEngine]:
    """The real engines, configured from settings, keyed by name.

    Building is cheap and offline: gTTS is only contacted and libespeak-ng only loaded on
    the first ``synthesize`` call, so a broken engine shows up as a fallback, not a crash.
    """
    from .edge_engine import EdgeEngine
    from .espeak_engine import EspeakEngine
    from .gtts_engine import GttsEngine

    engines: list[SpeechEngine] = [
        EdgeEngine.from_settings(settings), GttsEngine.from_settings(settings), EspeakEngine.from_settings(settings),
    ]
    from .piper_voices import default_piper

    piper = default_piper(settings)  # only when a Piper voice is installed in <data_dir>/voices
    if piper is not None:
        engines.append(piper)
    return {engine.name: engine for engine in engines}
