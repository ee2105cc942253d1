"""The player's contract, checked on every sound card: the fake, ALSA (unpaced) and PulseAudio (paced).

What the card received is compared sample for sample with what was sent: the player must
neither drop, repeat, resample nor reorder anything, and must play silence between items.
A measured item is never a stream's first audio (Sink.wait_flowing): PulseAudio drops some of
that. Only when the card itself reports running dry (a loaded machine starved its client,
Sink.starved) may stretches be missing; what was heard must then still be the item's own
samples in order, and nothing else.
"""

from __future__ import annotations

import threading
import time
from datetime import timezone

import numpy as np
from broadcaster.playout.outcome import Outcome
from broadcaster.station.outcomes import reason_text
import pytest
from playout_helpers import ALL_SINKS, PACED_SINKS, RATE, dominant_hz, find_aired, locate, mono, rms, tone, write_wav

FADE_MS = 20
BLOCK = 1024


@pytest.mark.parametrize("sink", ALL_SINKS, indirect=True)
def test_two_items_air_back_to_back_exactly(sink, tmp_path):
    first, second = tone(1000, 0.8), tone(440, 0.8)
    paths = [write_wav(tmp_path / "1khz.wav", first), write_wav(tmp_path / "440hz.wav", second)]
    player = sink.make_player(fade_ms=FADE_MS, block_frames=BLOCK)
    player.open()
    if sink.paced:  # idle: the long-lived stream plays silence
        sink.wait_flowing(player, seconds=0.25)
    marks, results, walls = [], [], []
    for path in paths:
        began = time.monotonic()
        results.append(player.play(path, on_start=lambda: marks.append(sink.mark())))
        walls.append(time.monotonic() - began)
        assert player.now_playing is None
    # only the ALSA file device runs ahead of the clock and needs the player to keep time
    assert player._line.unpaced == (sink.name == "alsa-file")
    heard = mono(sink.heard())

    for result, item in zip(results, (first, second)):
        assert (result.outcome, reason_text(result), result.frames) == (Outcome.AIRED, None, len(item))
        assert result.started_at.tzinfo == timezone.utc and result.started_at <= result.ended_at
    assert len(marks) == 2, "on_start is called once per item"

    # a card that ran dry (the machine starved its client of CPU) misses stretches: then each item
    # must still be its own samples, in order, piece by piece (Sink.starved, find_aired)
    dropouts = sink.starved()
    found = find_aired(heard, first, dropouts=dropouts)
    assert found is not None, "the first item is not in the capture, sample for sample"
    a, first_end = found
    found = find_aired(heard, second, start=first_end, dropouts=dropouts)
    assert found is not None, "the second item is not in the capture, sample for sample"
    b, end = found
    assert not heard[:a].any() and not heard[first_end:b].any() and not heard[end:].any()
    assert len(heard) >= end  # the stream's trailing silence and padding are allowed
    # on_start runs before the item's first sample reaches the card
    assert marks[0] <= a and marks[1] <= b
    if dropouts:
        print(f"\n[{sink.name}] the card ran dry: sound checked piece by piece, not its level and pitch")
        return

    for segment, item, hz in ((heard[a : a + len(first)], first, 1000), (heard[b:end], second, 440)):
        assert rms(segment) == pytest.approx(rms(item), rel=0.01)
        assert rms(segment) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
        assert dominant_hz(segment) == pytest.approx(hz, abs=3)

    if sink.paced:
        assert a >= 0.2 * RATE, "the stream was not playing silence while idle"
        item_s = len(first) / RATE / sink.speed
        for wall in walls:
            assert item_s - 0.05 <= wall <= item_s + 0.4, f"play() took {wall:.3f} s for a {item_s:.3f} s item"
        gap_s = (b - a - len(first)) / RATE
        assert gap_s < 0.3, f"{gap_s:.3f} s of silence between two items played back to back"
        print(f"\n[{sink.name}] play() wall time {walls[0]:.3f}/{walls[1]:.3f} s for {item_s:.3f} s items; "
              f"gap between items {gap_s * 1000:.0f} ms; on_start→first sample "
              f"{(a - marks[0]) / RATE * 1000:.0f}/{(b - marks[1]) / RATE * 1000:.0f} ms (capture clock)")


def _bad_files(tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 50)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(write_wav(tmp_path / "whole.wav", tone(440, 0.1)).read_bytes()[:30])
    return [
        (tmp_path / "khong-co.wav", "Không tìm thấy tệp âm thanh"),
        (garbage, "Không đọc được tệp WAV"),
        (truncated, "Không đọc được tệp WAV"),
        (write_wav(tmp_path / "8bit.wav", tone(440, 0.1), sampwidth=1), "16-bit"),
        (write_wav(tmp_path / "44k.wav", tone(440, 0.1, rate=44100), rate=44100), "44100 Hz"),
        (write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16)), "rỗng"),
    ]


@pytest.mark.parametrize("sink", ALL_SINKS, indirect=True)
def test_unplayable_files_fail_without_touching_the_stream(sink, tmp_path):
    good = tone(1000, 0.3)
    player = sink.make_player()
    player.open()
    sink.wait_flowing(player)  # the files fail on a stream that plays (and the good item is not its start)
    for path, words in _bad_files(tmp_path):
        called = []
        result = player.play(path, on_start=lambda: called.append(True))
        assert result.outcome is Outcome.FAILED, path
        assert words in reason_text(result) and str(path) in reason_text(result)
        assert result.frames == 0 and not called
        assert player.is_open and player.now_playing is None
    assert player.play(write_wav(tmp_path / "good.wav", good)).outcome is Outcome.AIRED
    heard = mono(sink.heard())
    span = find_aired(heard, good, dropouts=sink.starved())
    assert span is not None, "the good item is not in the capture, sample for sample"
    assert not heard[: span[0]].any() and not heard[span[1] :].any(), "a failed item reached the card"


@pytest.mark.parametrize("sink", ALL_SINKS, indirect=True)
def test_open_is_idempotent_and_close_leaves_no_stream(sink, tmp_path):
    item = write_wav(tmp_path / "item.wav", tone(1000, 0.2))
    player = sink.make_player()
    assert not player.is_open and player.now_playing is None
    with player as same:
        assert same is player
        player.open()
        player.open()
        assert player.is_open and player.output_channels in (1, 2)
        assert sink.streams_open() == 1
    assert not player.is_open
    assert sink.streams_open() == 0
    player.close()  # closing twice is harmless
    result = player.play(item)
    assert result.outcome is Outcome.NOT_OPEN and "chưa được mở" in reason_text(result)
    player.open()
    assert player.is_open and player.play(item).outcome is Outcome.AIRED
    player.close()
    assert sink.streams_open() == 0


@pytest.mark.parametrize("sink", PACED_SINKS, indirect=True)
def test_interrupt_fades_out_within_fade_and_a_block(sink, tmp_path):
    item = tone(1000, 10.0)  # long enough that a stalled machine never sees it end by itself
    path = write_wav(tmp_path / "long.wav", item)
    player = sink.make_player(fade_ms=FADE_MS, block_frames=BLOCK)
    player.open()
    started, outcome = threading.Event(), {}

    def run() -> None:
        outcome["result"] = player.play(path, on_start=started.set)
        outcome["returned"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(5)
    # 0.6 s of the item on the card's own clock (frames it took since the item started), not ours
    begun, deadline = sink.mark(), time.monotonic() + 30
    while sink.mark() - begun < 0.6 * RATE:
        assert time.monotonic() < deadline, "the card stopped taking audio"
        time.sleep(0.02)
    assert player.now_playing == path
    mark = sink.mark()
    asked = time.monotonic()
    player.interrupt(Outcome.URGENT_CUT)
    worker.join(5)
    result = outcome["result"]
    returned_s = outcome["returned"] - asked
    assert (result.outcome, reason_text(result)) == (Outcome.URGENT_CUT, "Bị ngắt để phát thông báo khẩn cấp")
    # play() came back because of the interrupt, not the item's end (the wall time is printed below,
    # not asserted: a loaded machine may delay the thread; the card's own clock is asserted instead)
    assert result.frames < len(item) - RATE
    assert player.now_playing is None and player.is_open

    heard = mono(sink.heard())
    fade = FADE_MS * RATE // 1000
    if sink.starved():  # the card ran dry (its client starved of CPU): pieces of the item, then its fade
        found = find_aired(heard, item[: result.frames - fade], dropouts=True)
        assert found is not None, "not the item's own samples in order"
        after = heard[found[1] :]
        assert np.count_nonzero(after) <= fade, "more sound after the item than its fade"
        print(f"\n[{sink.name}] the card ran dry: the fade's shape and timing are not measurable in this run")
        return
    start = locate(heard, item, length=4800)
    assert start is not None
    body = result.frames - fade
    assert 0 < body < len(item) - fade
    body_end = start + body
    if not np.array_equal(heard[start:body_end], item[:body]) and sink.name == "pulse":
        # PulseAudio may rewind its buffer when the fade replaces audio it had queued but not yet
        # played (the null sink's rewinds are ~900 frames), unreported as an underrun: the cut then
        # comes that much sooner. What was heard must still be the item's own samples in order,
        # with no more than 50 ms of it gone, then the fade.
        found = find_aired(heard, item[:body], start=start, dropouts=True)
        assert found is not None, "not the item's own samples in order"
        lost = body - (found[1] - found[0])
        assert 0 <= lost <= RATE // 20, f"{lost} frames of the item missing"
        body_end = found[1]
        print(f"\n[{sink.name}] {lost} frames of the queued item dropped by a rewind at the cut")
    else:
        assert np.array_equal(heard[start:body_end], item[:body])
    gains = 1.0 - np.arange(1, fade + 1, dtype=np.float32) / fade
    expected_tail = (item[body : result.frames] * gains).astype(np.int16)
    tail = heard[body_end : body_end + fade]
    assert np.abs(tail.astype(np.int32) - expected_tail).max() <= 1, "not a linear fade to zero"
    assert not heard[body_end + fade :].any(), "sound after the fade"
    # from the card's point of view: audio frames between interrupt() and silence
    silent_after = (body_end + fade - mark) / RATE
    allowed = (FADE_MS / 1000) + BLOCK / RATE + (player.latency or 0) + 0.05
    assert silent_after <= allowed, f"silence {silent_after * 1000:.0f} ms after interrupt()"
    print(f"\n[{sink.name}] interrupt → silence {silent_after * 1000:.0f} ms of audio (capture clock), "
          f"play() returned after {returned_s * 1000:.0f} ms wall")
