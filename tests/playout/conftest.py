"""Sound cards for the playout tests, each behind the same small `Sink` interface.

* memory    — the package's MemoryCard (a fake that runs the callback in a thread).
* alsa-file — the real path: sounddevice → PortAudio → ALSA `default` in a per-test HOME
              whose ~/.asoundrc writes everything to a WAV file through the `null` device.
              The device is not paced (it takes audio ~1000× faster than real time); the
              player notices and keeps real time itself, to within UNPACED_LEAD_S.
* pulse     — the real path into a private PulseAudio null sink (tests/support/pulse.py),
              recorded with parec: paced in real time, so timing can be measured.

The contract tests run the same checks over these sinks, so the fake cannot drift from
the real card. Whatever a test does, every player is closed and PortAudio re-initialized
with the original HOME at teardown, so no stream stays open and other tests see the
machine's own ALSA configuration.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from playout_helpers import RATE, file_capture_asoundrc
from support.pulse import pulse_default_device, pulse_server, read_wav_lenient  # noqa: F401

from broadcaster.exceptions import PlayoutError
from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player

MEMORY_SPEED = 4.0  # the fake card runs this much faster than real time


def _portaudio_or_skip() -> None:
    from broadcaster.playout.devices import list_devices

    try:
        list_devices()
    except PlayoutError as exc:
        pytest.skip(f"PortAudio is not usable here (install libportaudio2): {exc}")


@pytest.fixture
def alsa_home(tmp_path):
    """Factory: a per-test HOME holding the given ~/.asoundrc, with PortAudio re-initialized.

    Extra keyword arguments become environment variables. HOME and PortAudio are restored
    at teardown (after the players using them are closed by the fixtures below).
    """
    from broadcaster.playout.devices import reinitialize_portaudio

    _portaudio_or_skip()
    patch = pytest.MonkeyPatch()
    home = tmp_path / "home"

    def configure(asoundrc: str, **env: str) -> Path:
        home.mkdir(exist_ok=True)
        (home / ".asoundrc").write_text(asoundrc)
        patch.setenv("HOME", str(home))
        for name, value in env.items():
            patch.setenv(name, value)
        reinitialize_portaudio()
        return home

    yield configure
    patch.undo()
    reinitialize_portaudio()


class Sink:
    """A sound card a test can play into and then inspect."""

    name = "?"
    paced = True
    speed = 1.0  # audio seconds per wall-clock second

    def __init__(self) -> None:
        self.players: list[Player] = []

    def make_player(self, **kwargs) -> Player:
        """A Player on this card; closed at teardown whatever happens."""
        kwargs.setdefault("sample_rate", RATE)
        player = self._player(**kwargs)
        self.players.append(player)
        return player

    def _player(self, **kwargs) -> Player:
        return Player(**kwargs)

    def close_all(self) -> None:
        """Close every player (they must leave no stream open)."""
        for player in self.players:
            player.close()

    def mark(self) -> int:
        """Frames the card has taken so far (a clock in the capture's units)."""
        raise NotImplementedError

    def wait_flowing(self, player: Player, *, seconds: float = 0.1, timeout: float = 10.0) -> None:
        """Block until the card has taken `seconds` of the player's open stream beyond what its
        buffer holds: the stream is past its start. (PulseAudio begins a stream dry and, when its
        first data comes, drops up to ~20 ms of it: an item played at once after open() would
        lose its first samples whenever the machine is slow to run the first callbacks.)"""
        line = player._line
        assert line is not None, "open the player first"
        frames = ((player.latency or 0.0) + seconds) * RATE
        deadline = time.monotonic() + timeout
        while line.position < frames:
            assert time.monotonic() < deadline, f"the card took {line.position} frames in {timeout} s"
            time.sleep(0.01)

    def starved(self) -> bool:
        """Whether the card reported running dry (its client starved of CPU) since it was made:
        then what it heard may miss stretches of what was sent. Only a real daemon reports it."""
        return False

    def heard(self) -> np.ndarray:
        """Everything the card received, int16 (frames, channels). Closes the players first."""
        raise NotImplementedError

    def streams_open(self) -> int:
        """How many of our output streams the card still sees."""
        raise NotImplementedError


class MemorySink(Sink):
    name = "memory"
    speed = MEMORY_SPEED

    def __init__(self, **card_options) -> None:
        super().__init__()
        self.card = MemoryCard(speed=self.speed, latency=0.02, **card_options)

    def _player(self, **kwargs) -> Player:
        kwargs.setdefault("stream_factory", self.card)
        return Player(**kwargs)

    def mark(self) -> int:
        return self.card.last.frames if self.card.streams else 0

    def heard(self) -> np.ndarray:
        self.close_all()
        return np.concatenate([s.captured() for s in self.card.streams])

    def streams_open(self) -> int:
        return len(self.card.open_streams)


class AlsaFileSink(Sink):
    name = "alsa-file"
    paced = True  # not by the device: the player notices it runs ahead and keeps real time itself

    def __init__(self, capture: Path) -> None:
        super().__init__()
        self.capture = capture

    def mark(self) -> int:
        # ALSA's file plugin buffers its writes: this lags what was handed over, never leads
        channels = next((p.output_channels for p in self.players if p.output_channels), 2)
        try:
            return max(0, self.capture.stat().st_size - 44) // (2 * channels)
        except FileNotFoundError:
            return 0

    def heard(self) -> np.ndarray:
        self.close_all()
        data, rate, _ = read_wav_lenient(self.capture)
        assert rate == RATE
        return data

    def streams_open(self) -> int:
        # an open stream on this unpaced device keeps writing: the file grows
        before = self.capture.stat().st_size if self.capture.exists() else 0
        time.sleep(0.05)
        after = self.capture.stat().st_size if self.capture.exists() else 0
        return int(after > before)


class PulseSink(Sink):
    name = "pulse"

    def __init__(self, server, recording: Path, capfd) -> None:
        super().__init__()
        self.server = server
        self.recorder = server.record(recording)
        self.recorder.wait_flowing()
        self._underruns = server.underruns()
        self._capfd, self._client_stderr = capfd, ""

    def mark(self) -> int:
        return self.recorder.frames_so_far()

    def heard(self) -> np.ndarray:
        self.close_all()
        time.sleep(0.15)  # the recorder is ~20 ms behind the sink: let it catch the tail
        self.recorder.stop()
        return self.recorder.samples()

    def streams_open(self) -> int:
        return len(self.server.sink_inputs())

    def starved(self) -> bool:
        # two reports: the daemon's (a stream that ran dry), and ALSA's in this process when its
        # pulse plugin found the buffer drained first and PortAudio recovered (a new stream, the
        # queued audio lost); the latter only goes to stderr, handed on here for the test report
        out, err = self._capfd.readouterr()
        sys.stdout.write(out)
        sys.stderr.write(err)
        self._client_stderr += err
        return self.server.underruns() > self._underruns or "underrun occurred" in self._client_stderr


def _make_sink(kind: str, request, tmp_path: Path) -> Sink:
    if kind == "memory":
        return MemorySink()
    if kind == "alsa-file":
        capture = tmp_path / "captured.wav"
        request.getfixturevalue("alsa_home")(file_capture_asoundrc(capture))
        return AlsaFileSink(capture)
    if kind == "pulse":
        server = request.getfixturevalue("pulse_default_device")
        return PulseSink(server, tmp_path / "heard.wav", request.getfixturevalue("capfd"))
    raise ValueError(kind)


@pytest.fixture
def sink(request, tmp_path):
    """The sound card named by the test's parameter; its players are closed at teardown."""
    made = _make_sink(request.param, request, tmp_path)
    try:
        yield made
    finally:
        made.close_all()
        if isinstance(made, AlsaFileSink):
            made.capture.unlink(missing_ok=True)  # hundreds of MB of unpaced silence otherwise stay in tmp


@pytest.fixture
def memory_sink():
    """A fake card (MemoryCard) for tests of logic that needs no real device."""
    made = MemorySink()
    try:
        yield made
    finally:
        made.close_all()
