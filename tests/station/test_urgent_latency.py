"""Urgent cut-in on the paced PulseAudio sink, end to end: `broadcaster urgent --text` (a
subprocess) → HTTP → the running station → the attention tone handed to the sound card, cutting
in on the programme item, which resumes afterwards. The recording shows it.

The 500 ms target (command → first tone sample) is a figure of the machine, not a property the
code can guarantee on a loaded CI runner: bench/bench_urgent_latency.py measures it against a
reference start-up in the same run (docs/BENCHMARKS.md), and this test prints what it saw. What
makes it reachable is asserted without a stopwatch: the tone cuts in mid-item (the row of the
item says so, the recording shows it a second into a 20 s item) and does not wait for the
message's speech (tests/station/test_urgent_desk.py, held by an event)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from playout_helpers import RATE, locate, mono, tone
from support.api_server import ApiServer
from urgent_helpers import air_in_thread, attention_samples, on_air_title, ready_bulletin, wait_for

from broadcaster.playout.outcome import Outcome
from broadcaster.db import as_utc
from broadcaster.playout.player import Player
from broadcaster.station.urgent import TONE_TITLE, URGENT_CUT_REASON

BIN = Path(sys.executable).parent / "broadcaster"
TARGET_S = 0.5
MESSAGE = "Thông báo khẩn: nước sông Cầu đang lên nhanh."

pytestmark = pytest.mark.paced


@pytest.fixture
def pulse_onair(pulse_default_device, station, settings):
    runner = station.on_air(
        player_factory=lambda: Player(sample_rate=settings.sample_rate, fade_ms=settings.fade_ms),
        stop=threading.Event(),
        say=lambda message: None,
    )
    assert runner.ensure_device()
    yield runner
    runner.urgent.shutdown()
    runner.player.close()


def _cli_env(data_dir: Path) -> dict:
    return dict(os.environ, BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')


FAST_ENTRY = "cli.entry.main"  # what the `broadcaster` console script runs, started by python directly


@pytest.mark.parametrize("entry", ["broadcaster urgent", FAST_ENTRY])
def test_cli_cuts_in_with_the_tone_and_the_programme_resumes_on_a_paced_card(
    pulse_default_device, pulse_onair, station, data_dir, tmp_path, entry
):
    recorder = pulse_default_device.record(tmp_path / "heard.wav")
    recorder.wait_flowing()
    ready_bulletin(station, tmp_path, "Tin A", 440, 20.0)
    # the message is prepared while the tone plays; warm the speech cache's engine so the test
    # measures the cut-in, not the first load of libespeak-ng
    station.render_text("khởi động", engine="espeak", jingles=False)
    if entry == "broadcaster urgent":
        command = [str(BIN), "urgent"]
    else:
        command = [sys.executable, "-c", "from broadcaster.cli.entry import main; main()", "urgent"]
    item = tone(440, 20.0)
    with ApiServer(station, pulse_onair, data_dir):
        thread, _box = air_in_thread(station, pulse_onair.player)
        wait_for(lambda: on_air_title(station) == "Tin A")
        # A has reached the recording for a second (its row opens before its first sample, and
        # a loaded machine may take a while to get there): wait on what was heard, not on a sleep
        wait_for(lambda: _heard_for(mono(recorder.samples()), item, 1.0), step=0.05)
        t0 = datetime.now(timezone.utc)
        run = subprocess.run(
            [*command, "--text", MESSAGE, "--operator", "thử"], env=_cli_env(data_dir),
            capture_output=True, text=True, timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert "Đã gửi lệnh khẩn cấp tới đài đang chạy" in run.stdout
        job = pulse_onair.urgent.jobs()[-1]
        assert job.done.wait(60) and job.state == "done", job.public()
        wait_for(lambda: on_air_title(station) == "Tin A")
        # the resumed item is in the recording before the test ends it (not: a second went by)
        wait_for(lambda: _resumed(station, mono(recorder.samples()), item) is not None, timeout=60, step=0.25,
                 what="the resumed item in the recording")
        pulse_onair.player.interrupt(Outcome.INTERRUPTED)
        thread.join(30)
    recorder.stop()

    rows = station.as_run_log()
    cut, tone_row = rows[0], rows[1]
    assert (cut.title, cut.status, cut.reason) == ("Tin A", "interrupted", URGENT_CUT_REASON)
    assert tone_row.title == TONE_TITLE and tone_row.kind == "urgent" and tone_row.operator == "thử"
    first_sample = as_utc(tone_row.started_at)
    requested = as_utc(tone_row.requested_at)
    end_to_end = (first_sample - t0).total_seconds()
    in_station = (first_sample - requested).total_seconds()
    print(f"\n{entry}: command→first tone sample {end_to_end * 1000:.0f} ms; request→first sample {in_station * 1000:.0f} ms"
          f" (target {TARGET_S * 1000:.0f} ms: measured by bench/bench_urgent_latency.py)")
    assert 0 < in_station and 0 < end_to_end  # the tone came after the request, not from before it

    heard = mono(recorder.samples())
    a, at, again = _locate_cut(station, heard, item)
    assert a is not None and at is not None and at > a, "the recording does not show the tone after the item"
    assert again is not None, "the programme did not resume at the item it was on"
    # the card was paced: the tone came ≥ 1 s of A after A's start (we waited 1 s before the command),
    # and it cut in: well before the 20 s item would have ended by itself
    assert 1.0 * RATE <= at - a < len(item) - RATE



def _heard_for(heard: np.ndarray, item: np.ndarray, seconds: float) -> bool:
    """Whether the recording holds the start of `item` and at least `seconds` of audio after it."""
    a = locate(heard, item, length=RATE // 2)
    return a is not None and len(heard) - a >= seconds * RATE


def _locate_cut(station, heard: np.ndarray, item: np.ndarray) -> tuple[int | None, int | None, int | None]:
    """Where the item starts, where the attention tone starts after it, where the item starts again."""
    a = locate(heard, item, length=RATE // 2)
    if a is None:
        return None, None, None
    # the tone's first 0.1 s of sound (its leading silence skipped), not all of it: a loaded machine may
    # drop a few ms of a long tone on PulseAudio, and an exact match of the whole would then never come
    at = locate(heard, attention_samples(station)[RATE // 10 :], start=a, length=RATE // 10)
    if at is None:
        return a, None, None
    return a, at, locate(heard, item, start=at, length=RATE // 2)


def _resumed(station, heard: np.ndarray, item: np.ndarray) -> int | None:
    return _locate_cut(station, heard, item)[2]
