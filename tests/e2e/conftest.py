"""Environments for the installed `broadcaster` command: offline speech and a HOME of the test's own."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def env(tmp_path, data_dir):
    """No sound card at all (ALSA's default points at a card that does not exist), offline speech,
    a quick device retry (the serve loop's tick)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type hw; card 97 }\nctl.!default { type hw; card 97 }\n")
    return dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]',
                BROADCASTER_OUTPUT_DEVICE="không-có-card-này", BROADCASTER_DEVICE_RETRY_S="1")


@pytest.fixture
def file_card_env(tmp_path, data_dir):
    """Offline speech, and a HOME whose .asoundrc sends the default ALSA device to a WAV file
    (`_capture` names it)."""
    home = tmp_path / "home"
    home.mkdir()
    capture = tmp_path / "captured.wav"
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{capture}"; format "wav" }}\n', encoding="utf-8"
    )
    return dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]',
                _capture=str(capture))
