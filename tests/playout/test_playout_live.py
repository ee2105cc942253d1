"""Live sources and dead air: relaying a stream (ffmpeg over a local HTTP server), the
microphone (a second PulseAudio null sink as the input), and the silence check.

No network: the stream comes from http.server on 127.0.0.1 serving an MP3 made by ffmpeg.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from playout_helpers import RATE, FakeToneInput, tone, write_wav

from broadcaster.playout.outcome import Outcome
from broadcaster.station.outcomes import reason_text, silence_reason
from broadcaster.playout.live import MicSource, StreamSource, ffmpeg_exe
from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player


def dominant_hz(samples: np.ndarray, rate: int = RATE) -> float:
    x = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def make_mp3(path: Path, *, hz: float, seconds: float) -> Path:
    wav = write_wav(path.with_suffix(".wav"), tone(hz, seconds, amplitude=0.4))
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-f", "wav", "-i", str(wav), "-b:a", "128k", str(path)],
        check=True, timeout=60,
    )
    return path


@pytest.fixture
def http_dir(tmp_path):
    """(directory, base URL) of a local HTTP server; shut down at teardown."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def card_player():
    card = MemoryCard(speed=1.0, latency=0.02)
    players = []

    def make(**kwargs):
        player = Player(sample_rate=RATE, stream_factory=card, **kwargs)
        player.open()
        players.append(player)
        return player

    yield card, make
    for player in players:
        player.close()


# ------------------------------------------------------------------------------------ relay
def test_stream_relay_plays_the_stream_for_its_set_time(http_dir, card_player):
    root, base = http_dir
    make_mp3(root / "radio.mp3", hz=1000, seconds=10)
    card, make = card_player
    player = make()
    began = time.monotonic()
    result = player.play_stream(f"{base}/radio.mp3", duration_s=2.0)
    wall = time.monotonic() - began
    assert result.outcome is Outcome.AIRED, reason_text(result)
    assert 1.9 <= wall <= 4.5
    heard = card.last.captured()[:, 0]
    loud = np.flatnonzero(np.abs(heard) > 3000)
    assert len(loud) > 1.5 * RATE  # about 2 s of the stream reached the card
    middle = heard[loud[0] + RATE // 2 : loud[0] + RATE]
    assert dominant_hz(middle) == pytest.approx(1000, abs=5)


def test_stream_that_ends_early_is_failed_with_the_reason(http_dir, card_player):
    root, base = http_dir
    make_mp3(root / "short.mp3", hz=800, seconds=1.0)
    _, make = card_player
    result = make().play_stream(f"{base}/short.mp3", duration_s=5.0)
    assert result.outcome is Outcome.ENDED_EARLY
    assert "kết thúc sớm" in reason_text(result)


@pytest.mark.parametrize("what", ["missing-file", "refused"])
def test_stream_that_cannot_be_opened_is_failed_with_ffmpegs_reason(http_dir, card_player, what):
    root, base = http_dir
    if what == "missing-file":
        url = f"{base}/nothing-here.mp3"
    else:
        import socket

        with socket.socket() as s:  # a port that was free a moment ago: connection refused
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/radio.mp3"
    _, make = card_player
    began = time.monotonic()
    result = make().play_stream(url, duration_s=5.0)
    assert result.outcome is Outcome.FAILED
    assert "Không phát được luồng" in reason_text(result) and url in reason_text(result)
    assert time.monotonic() - began < 5.0  # a dead stream is noticed, not waited out


def test_stream_source_keeps_little_in_memory_on_a_fast_source(http_dir):
    # a 60 s MP3 decodes in well under a second; the buffer must stay at STREAM_BUFFER_S
    root, base = http_dir
    make_mp3(root / "long.mp3", hz=500, seconds=60)
    source = StreamSource(f"{base}/long.mp3", sample_rate=RATE)
    try:
        time.sleep(1.5)
        assert len(source._buffer) <= 2.0 * RATE * 2 + 16384
        got = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            data = source.read(48000)
            if data is None:
                time.sleep(0.01)
                continue
            if len(data) == 0:
                break
            got += len(data)
        assert got == pytest.approx(60 * RATE, abs=RATE // 10)  # the whole stream, once
    finally:
        source.close()
    assert source._process.poll() is not None


# ---------------------------------------------------------------------------------- silence
def test_silence_longer_than_the_setting_ends_the_item_as_failed(tmp_path, card_player):
    item = np.concatenate([tone(440, 1.0), np.zeros(4 * RATE, dtype=np.int16), tone(440, 1.0)])
    path = write_wav(tmp_path / "gap.wav", item)
    card, make = card_player
    player = make(silence_s=1.5)
    began = time.monotonic()
    result = player.play(path)
    wall = time.monotonic() - began
    assert (result.outcome, result.seconds) == (Outcome.SILENCE, 1.5)
    assert reason_text(result) == silence_reason(1.5) and "Im lặng" in reason_text(result)
    # 1 s of tone, then exactly silence_s of silence, then the end (not the second tone)
    assert result.frames == pytest.approx(2.5 * RATE, abs=4096)
    assert wall < 3.5
    heard = card.last.captured()[:, 0]
    loud = np.flatnonzero(np.abs(heard) > 1000)
    assert loud[-1] - loud[0] == pytest.approx(RATE, abs=64)  # the second tone never aired


def test_quiet_but_not_silent_audio_and_short_gaps_are_not_dead_air(tmp_path, card_player):
    rng = np.random.default_rng(1)
    hiss = (rng.standard_normal(3 * RATE) * 60).astype(np.int16)  # about -55 dBFS peak: a quiet line
    item = np.concatenate([tone(440, 0.5), np.zeros(RATE, dtype=np.int16), hiss, tone(440, 0.5)])
    path = write_wav(tmp_path / "quiet.wav", item)
    _, make = card_player
    result = make(silence_s=1.5).play(path)
    assert result.outcome is Outcome.AIRED, reason_text(result)
    assert result.frames == len(item)


def test_without_a_silence_setting_a_silent_item_airs(tmp_path, card_player):
    path = write_wav(tmp_path / "silent.wav", np.zeros(2 * RATE, dtype=np.int16))
    _, make = card_player
    assert make().play(path).outcome is Outcome.AIRED


# ------------------------------------------------------------------------------- microphone


def test_mic_source_feeds_the_player_until_stopped_and_archives_what_aired(tmp_path, card_player):
    card, make = card_player
    player = make()
    archive = tmp_path / "archive" / "mic.wav"
    source = MicSource(archive=archive, sample_rate=RATE, block_frames=1024, stream_factory=FakeToneInput)
    threading.Timer(1.5, source.stop).start()
    result = player.play_source(source, label="micro")
    assert result.outcome is Outcome.AIRED, reason_text(result)
    assert 1.2 * RATE <= result.frames <= 2.0 * RATE
    with wave.open(str(archive), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)
        archived = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert len(archived) == result.frames
    assert dominant_hz(archived[: RATE // 2]) == pytest.approx(700, abs=5)
    heard = card.last.captured()[:, 0]
    start = int(np.flatnonzero(np.abs(heard) > 1000)[0])
    assert np.array_equal(heard[start : start + RATE // 2], archived[: RATE // 2])  # what aired is what is kept


@pytest.mark.paced
def test_microphone_on_pulseaudio_reaches_the_output_and_the_archive(pulse_default_device, tmp_path):
    server = pulse_default_device
    # a second null sink "mic": whatever plays into it is what the default source (its monitor) hears
    server._pactl("load-module", "module-null-sink", "sink_name=mic", f"rate={RATE}", "format=s16le", "channels=1")
    server._pactl("set-default-source", "mic.monitor")
    from broadcaster.playout.devices import reinitialize_portaudio

    reinitialize_portaudio()
    tone_wav = write_wav(tmp_path / "voice.wav", tone(700, 8.0, amplitude=0.4))
    recorder = server.record(tmp_path / "heard.wav")
    recorder.wait_flowing()
    feeder = subprocess.Popen(
        ["paplay", "-d", "mic", str(tone_wav)], env=server.client_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    archive = tmp_path / "mic.wav"
    try:
        with Player(sample_rate=RATE) as player:
            source = MicSource(archive=archive, sample_rate=RATE, block_frames=1024)
            threading.Timer(3.0, source.stop).start()
            result = player.play_source(source, label="micro")
        time.sleep(0.2)
    finally:
        feeder.terminate()
        feeder.wait(5)
        recorder.stop()
    assert result.outcome is Outcome.AIRED, reason_text(result)
    heard = recorder.samples()[:, 0]
    loud = np.flatnonzero(np.abs(heard) > 2000)
    assert len(loud) > 1.5 * RATE, "the microphone did not reach the output"
    assert dominant_hz(heard[loud[0] : loud[0] + RATE // 2]) == pytest.approx(700, abs=5)
    with wave.open(str(archive), "rb") as wav:
        archived = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    loud_archived = np.flatnonzero(np.abs(archived) > 2000)
    assert len(loud_archived) > 1.5 * RATE
    assert dominant_hz(archived[loud_archived[0] : loud_archived[0] + RATE // 2]) == pytest.approx(700, abs=5)
