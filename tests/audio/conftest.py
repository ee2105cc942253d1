"""Fixtures for the audio tests; the signals and measuring helpers live in audio_helpers.py."""

from __future__ import annotations

import pytest

from audio_helpers import load_generator


@pytest.fixture(scope="session")
def generator():
    """The asset generator module (audio_assets/generate.py)."""
    return load_generator()
