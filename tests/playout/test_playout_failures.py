"""When things go wrong at air time: the card vanishes or stalls, a caller gives up, a hook fails."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from playout_helpers import ALL_SINKS, PACED_SINKS, RATE, find_aired, locate, mono, tone, write_wav

from broadcaster.playout.outcome import DeviceFault, Outcome
from broadcaster.station.outcomes import reason_text
from broadcaster.exceptions import PlayoutError
from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player


@pytest.mark.parametrize("sink", PACED_SINKS, indirect=True)
def test_card_vanishing_mid_item_fails_and_the_player_can_reopen(sink, tmp_path):
    path = write_wav(tmp_path / "long.wav", tone(440, 3.0))
    player = sink.make_player()
    player.open()
    if sink.name == "pulse":
        vanish = threading.Timer(0.5, sink.server.kill)  # the daemon dies like an unplugged USB card
    else:
        stream = sink.card.last
        vanish = threading.Timer(0.5 / sink.speed, lambda: stream.fail_after(stream.frames))
    began = time.monotonic()
    vanish.start()
    result = player.play(path)
    took = time.monotonic() - began
    vanish.join()
    assert (result.outcome, result.fault) == (Outcome.DEVICE_LOST, DeviceFault.STOPPED)
    assert "Luồng âm thanh bị dừng" in reason_text(result)
    assert took < 0.5 / sink.speed + 1.0, f"play() noticed the missing card after {took:.2f} s"
    print(f"\n[{sink.name}] card vanished after {0.5 / sink.speed:.3f} s; play() returned after {took:.3f} s")
    assert 0 < result.frames < 3 * RATE
    assert not player.is_open, "a broken stream must leave the player closed, ready to reopen"
    player.close()

    if sink.name == "pulse":
        sink.server.restart()  # the card is plugged back in
    player.open()
    assert player.is_open
    assert player.play(write_wav(tmp_path / "short.wav", tone(1000, 0.2))).outcome is Outcome.AIRED
    player.close()
    assert sink.streams_open() == 0


@pytest.mark.parametrize("sink", ALL_SINKS, indirect=True)
def test_a_tap_that_raises_is_dropped_and_the_card_plays_the_item_to_its_end(sink, tmp_path):
    # the Icecast fan-out's tap runs in the card's callback: a bug in it must cost the stream
    # to the clusters, never the amplifier (and it must not be called again after it raised)
    item = tone(523, 1.5)
    player = sink.make_player()
    calls = {"blocks": 0, "raised": 0}

    def broken_tap(block: np.ndarray) -> None:
        calls["blocks"] += 1
        if block.any():  # the item's first block reached the card: the tap breaks
            calls["raised"] += 1
            raise RuntimeError("a bug in the fan-out")

    player.set_tap(broken_tap)
    player.open()
    sink.wait_flowing(player)  # the item is not the stream's start (PulseAudio drops some of that)
    result = player.play(write_wav(tmp_path / "item.wav", item))
    assert (result.outcome, result.fault, result.detail) == (Outcome.AIRED, None, None)
    assert player.is_open
    assert calls["raised"] == 1, calls  # dropped at its first error: the rest of the item never reached it
    blocks = calls["blocks"]
    fault = player.take_tap_fault()  # the station logs it (one alarm), handed out once
    assert fault is not None and isinstance(fault.error, RuntimeError) and fault.at is not None
    assert player.take_tap_fault() is None
    heard = mono(sink.heard())  # closes the player
    assert find_aired(heard, item, dropouts=sink.starved()) is not None, "the item did not reach the card whole"
    # reopened (a card that came back), the broken tap stays dropped
    player.open()
    assert player.play(write_wav(tmp_path / "after.wav", tone(880, 0.2))).outcome is Outcome.AIRED
    assert calls["blocks"] == blocks and player.take_tap_fault() is None


def test_card_that_stalls_is_noticed_and_dropped(memory_sink, tmp_path):
    path = write_wav(tmp_path / "long.wav", tone(440, 3.0))
    player = memory_sink.make_player(stall_timeout=0.3)
    player.open()
    stream = memory_sink.card.last
    stream.fail_after(stream.frames + 4096, mode="stall")  # no callbacks, no word from the driver
    began = time.monotonic()
    result = player.play(path)
    assert result.fault is DeviceFault.STALLED and "ngừng nhận dữ liệu" in reason_text(result)
    assert time.monotonic() - began < 1.5
    assert not player.is_open
    player.open()
    assert player.is_open and len(memory_sink.card.open_streams) == 1


def test_timeout_interrupts_the_item(memory_sink, tmp_path):
    path = write_wav(tmp_path / "long.wav", tone(440, 4.0))
    player = memory_sink.make_player()
    player.open()
    result = player.play(path, timeout=0.2)
    assert result.outcome is Outcome.TIMEOUT and "Quá thời gian phát" in reason_text(result)
    assert result.frames < 4 * RATE
    assert player.is_open


def test_close_during_an_item_fades_it_and_closes(memory_sink, tmp_path):
    path = write_wav(tmp_path / "long.wav", tone(440, 4.0))
    player = memory_sink.make_player()
    player.open()
    outcome = {}
    started = threading.Event()
    worker = threading.Thread(target=lambda: outcome.setdefault("r", player.play(path, on_start=started.set)))
    worker.start()
    assert started.wait(5)
    time.sleep(0.1)
    player.close()
    worker.join(5)
    assert outcome["r"].outcome is Outcome.CLOSED and "Đã đóng" in reason_text(outcome["r"])
    assert not player.is_open and memory_sink.card.open_streams == []


def test_interrupt_when_idle_does_nothing(memory_sink, tmp_path):
    player = memory_sink.make_player()
    player.interrupt(Outcome.SKIPPED)  # not even open
    player.open()
    player.interrupt(Outcome.SKIPPED)
    item = tone(1000, 0.3)
    assert player.play(write_wav(tmp_path / "item.wav", item)).outcome is Outcome.AIRED
    assert locate(mono(memory_sink.heard()), item) is not None


def test_interrupt_once_the_row_is_committed_is_never_lost(memory_sink, tmp_path):
    # on_start commits the as-run row: from then on the item is on air for the console, and
    # an operator's skip/stop (or the urgent stop) sent in that instant must still end it,
    # even though the callback has not picked the item up yet.
    item = tone(1000, 4.0)
    path = write_wav(tmp_path / "item.wav", item)
    player = memory_sink.make_player()
    player.open()
    result = player.play(path, on_start=lambda: player.interrupt(Outcome.SKIPPED))
    assert (result.outcome, reason_text(result)) == (Outcome.SKIPPED, "Bỏ qua theo lệnh trực đài")
    assert result.frames < RATE, "the interrupted item played on"
    assert player.is_open and player.now_playing is None


def test_on_start_failure_stops_the_item_before_any_sound(memory_sink, tmp_path):
    item = tone(1000, 0.3)
    path = write_wav(tmp_path / "item.wav", item)
    player = memory_sink.make_player()
    player.open()

    def commit_row() -> None:
        raise RuntimeError("database is locked")

    with pytest.raises(RuntimeError, match="database is locked"):
        player.play(path, on_start=commit_row)
    assert player.is_open and player.now_playing is None
    assert not memory_sink.heard().any(), "an item aired without its as-run row"


def test_missing_card_raises_a_clear_error():
    card = MemoryCard(missing=True)
    player = Player(device="USB Audio", stream_factory=card)
    with pytest.raises(PlayoutError, match="Không tìm thấy thiết bị âm thanh: USB Audio"):
        player.open()
    assert not player.is_open
    player.close()


def test_stereo_only_card_gets_the_item_on_both_channels(tmp_path):
    card = MemoryCard(channels=2, speed=8)
    item = tone(1000, 0.3)
    with Player(stream_factory=card) as player:
        assert player.output_channels == 2
        assert player.play(write_wav(tmp_path / "mono.wav", item)).outcome is Outcome.AIRED
    heard = card.last.captured()
    assert heard.shape[1] == 2
    assert locate(mono(heard), item) is not None  # mono() checks both channels are identical


def test_stereo_file_is_mixed_down_for_a_mono_card(tmp_path):
    card = MemoryCard(channels=1, speed=8)
    left, right = tone(1000, 0.3), tone(440, 0.3)
    path = write_wav(tmp_path / "stereo.wav", np.stack([left, right], axis=1))
    with Player(stream_factory=card) as player:
        assert player.play(path).outcome is Outcome.AIRED
    expected = ((left.astype(np.int32) + right) // 2).astype(np.int16)
    assert locate(card.last.captured()[:, 0], expected) is not None


def test_times_come_from_the_injected_clock(tmp_path):
    ticks = iter(datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=n) for n in range(100))
    with Player(stream_factory=MemoryCard(speed=8), clock=lambda: next(ticks)) as player:
        result = player.play(write_wav(tmp_path / "item.wav", tone(1000, 0.1)))
    assert result.started_at == datetime(2025, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert result.ended_at == datetime(2025, 1, 1, 0, 0, 1, tzinfo=timezone.utc)


def test_a_long_programme_is_streamed_not_loaded(tmp_path):
    """A 10-minute item played on an unpaced fake never holds more than the prefetch in memory."""
    import tracemalloc

    import wave

    path = tmp_path / "programme.wav"
    second = tone(440, 1.0).tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for _ in range(600):
            out.writeframes(second)
    taken = []

    class Discard(MemoryCard):
        """Takes audio as fast as the player gives it, keeping only a count."""

        def __call__(self, **kwargs):
            stream = super().__call__(**kwargs)
            callback = kwargs["callback"]

            def counting(out, frames, time_info, status):
                callback(out, frames, time_info, status)
                taken.append(frames)
                out[:] = 0

            stream._callback = counting
            stream._blocks = _NoList()
            return stream

    class _NoList(list):
        def append(self, _):  # the fake card forgets what it heard
            pass

    tracemalloc.start()
    try:
        with Player(stream_factory=Discard(speed=1e6), block_frames=4096) as player:
            result = player.play(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.outcome is Outcome.AIRED and result.frames == 600 * RATE
    assert peak < 8_000_000, f"peak Python allocations {peak / 1e6:.1f} MB for a 57.6 MB file"
