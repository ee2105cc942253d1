"""The station's built-in jingles, attention tone and filler (audio_assets/, made by audio_assets/generate.py)."""

from __future__ import annotations

from pathlib import Path

from ..exceptions import AudioError
from ..resources import data_dir, data_file

#: Asset name → file in audio_assets/. A station replaces any of them through settings
#: (intro_jingle, outro_jingle, attention_tone, filler); these are only the defaults.
BUILTIN_ASSETS: dict[str, str] = {
    "intro": "intro.wav",
    "outro": "outro.wav",
    "attention": "attention.wav",
    # aired after a fault (silence on air) before the programme goes on
    "filler": "filler.wav",
}


def assets_dir() -> Path:
    """The audio_assets/ directory: shipped in the package (broadcaster.audio_assets)."""
    return data_dir("audio_assets")


def builtin_asset(name: str) -> Path:
    """Path of a built-in asset: "intro", "outro", "attention" or "filler".

    The path is returned even if the file is missing (loading it then raises AudioError
    naming the path); an unknown name raises AudioError at once.
    """
    try:
        filename = BUILTIN_ASSETS[name]
    except KeyError:
        known = ", ".join(BUILTIN_ASSETS)
        raise AudioError(f"Không có âm thanh dựng sẵn '{name}' (có: {known})", name=name) from None
    return data_file("audio_assets", filename)
