"""Finding the sound card: listing, choosing by index or name, and clear errors when there is none.

These run against real PortAudio with a per-test ALSA configuration (see conftest.alsa_home).
"""

from __future__ import annotations

import sys
import time

import pytest
from playout_helpers import file_capture_asoundrc, locate, tone, write_wav
from support.pulse import read_wav_lenient

from broadcaster.playout.outcome import Outcome
from broadcaster.exceptions import PlayoutError
from broadcaster.playout.devices import DeviceInfo, list_devices, resolve_device
from broadcaster.playout.player import Player

NOT_FOUND = "Không tìm thấy thiết bị âm thanh"


@pytest.fixture
def capture_home(alsa_home, tmp_path):
    """ALSA's default device is a WAV file capture; returns the capture path."""
    capture = tmp_path / "captured.wav"
    alsa_home(file_capture_asoundrc(capture))
    yield capture
    capture.unlink(missing_ok=True)


def test_list_devices_shows_the_alsa_default(capture_home):
    devices = list_devices()
    assert all(isinstance(d, DeviceInfo) and d.max_output_channels >= 1 for d in devices)
    default = [d for d in devices if d.name == "default"]
    assert len(default) == 1
    assert default[0].hostapi == "ALSA" and default[0].is_default
    assert default[0].default_samplerate > 0
    assert sum(d.is_default for d in devices) == 1


def test_resolve_device_by_index_and_by_name(capture_home):
    default = next(d for d in list_devices() if d.name == "default")
    assert resolve_device(None) is None and resolve_device("") is None and resolve_device("  ") is None
    assert resolve_device(default.index) == default.index
    assert resolve_device(str(default.index)) == default.index
    assert resolve_device("DEFAULT") == default.index  # case-insensitive, exact
    assert resolve_device("efau") == default.index  # part of the name


def test_unknown_devices_are_reported_in_vietnamese(capture_home):
    with pytest.raises(PlayoutError, match=f"^{NOT_FOUND}: Loa hội trường") as caught:
        resolve_device("Loa hội trường")
    assert "default" in str(caught.value)  # lists what is there
    with pytest.raises(PlayoutError, match=f"^{NOT_FOUND}: 999"):
        resolve_device(999)


def test_opening_a_nonexistent_device_raises_and_leaves_nothing_open(capture_home):
    player = Player(device="khong-co-card-nay")
    with pytest.raises(PlayoutError, match=f"^{NOT_FOUND}: khong-co-card-nay"):
        player.open()
    assert not player.is_open
    player.close()
    assert not capture_home.exists(), "the default device was opened instead"


def test_player_opens_the_device_named_in_settings(capture_home, tmp_path):
    item = tone(1000, 0.3)
    with Player(device="Default") as player:
        opened_with = player.output_channels
        assert player.play(write_wav(tmp_path / "item.wav", item)).outcome is Outcome.AIRED
    heard, _, channels = read_wav_lenient(capture_home)
    assert channels == opened_with == 2  # the capture device takes stereo, so stereo it gets
    for channel in range(channels):
        assert locate(heard[:, channel], item) is not None


def test_a_card_that_needs_two_channels_gets_the_item_on_both(alsa_home, tmp_path):
    """A device that takes exactly two channels: PortAudio would accept a mono stream here and
    leave the right channel silent, which is why the player asks for stereo."""
    capture = tmp_path / "stereo.wav"
    alsa_home(
        'pcm.!default { type route; slave { pcm "cap"; channels 2 }; ttable.0.0 1; ttable.1.1 1 }\n'
        + file_capture_asoundrc(capture).replace("pcm.!default", "pcm.cap")
    )
    item = tone(440, 0.3)
    try:
        with Player() as player:
            assert player.output_channels == 2
            assert player.play(write_wav(tmp_path / "item.wav", item)).outcome is Outcome.AIRED
        heard, _, channels = read_wav_lenient(capture)
        assert channels == 2
        for channel in (0, 1):
            assert locate(heard[:, channel], item) is not None, f"channel {channel} is missing the item"
    finally:
        capture.unlink(missing_ok=True)


def test_no_device_at_all_is_a_clear_error(alsa_home):
    alsa_home("# no sound card configured\n")
    if list_devices():
        pytest.skip("this machine has a real sound card")
    with pytest.raises(PlayoutError, match=NOT_FOUND):
        Player().open()
    with pytest.raises(PlayoutError, match=f"^{NOT_FOUND}: USB"):
        Player(device="USB").open()


def test_missing_portaudio_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails like a missing libportaudio2
    with pytest.raises(PlayoutError, match="PortAudio") as caught:
        list_devices()
    assert "libportaudio2" in str(caught.value)
    with pytest.raises(PlayoutError, match="PortAudio"):
        Player().open()


def test_an_unpaced_device_is_held_to_real_time(capture_home):
    """ALSA's file device takes audio as fast as it comes: idle, the player must not spin."""
    player = Player()
    started = time.monotonic()
    player.open()
    try:
        time.sleep(0.5)
    finally:
        player.close()
    elapsed = time.monotonic() - started  # measured, so a starved thread on a busy machine is no failure
    heard, _, _ = read_wav_lenient(capture_home)
    seconds = len(heard) / 48000
    # spinning would write the 0.5 s many times over; held to real time it writes at most what passed
    # (plus the device's buffer and the closing fade)
    assert 0.0 < seconds <= elapsed + 0.25 + 0.2, f"{seconds:.1f} s of silence written in {elapsed:.1f} s"


@pytest.mark.parametrize("spec", ["²", "①", "٠"])
def test_a_device_number_in_digits_that_are_not_plain_digits_is_a_name(capture_home, spec):
    # "²" passes str.isdigit() and int() refuses it; "٠" is 0 to int(): a device number is typed in
    # plain digits, so each is a name here, and no card has it
    with pytest.raises(PlayoutError, match=f"^{NOT_FOUND}: {spec}"):
        resolve_device(spec)


@pytest.mark.parametrize("spec", ["²", "①", "٠"])
def test_a_microphone_number_in_digits_that_are_not_plain_digits_is_a_name(capture_home, spec):
    from broadcaster.playout.devices import open_input_stream

    with pytest.raises(PlayoutError, match=f"^Không tìm thấy micro: {spec}"):
        open_input_stream(device=spec, samplerate=16000, blocksize=320, dtype="int16", callback=lambda *a: None)
