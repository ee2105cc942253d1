"""A cluster's sound card vanishes mid-play and comes back (the card missing at start: test_receiver_cli).

The receiver's card is a private PulseAudio daemon's null sink (tests/support/pulse.py), the one
boundary a test cannot reach otherwise: it is SIGKILLed while the receiver plays the tone from a real
Icecast (for PortAudio the card vanishes, like an unplugged USB card) and started again on the same
socket. The receiver's own log gets a gap row with the card as its cause, its status says so, and it
reopens the card and plays again once the card is back: a second heard row, the tone in the recording.
"""

from __future__ import annotations

import numpy as np
import pytest
from receiver_helpers import LOUD, MOUNT, RATE, ReceiverProcess, wait_for
from support.pulse import pulse_server  # noqa: F401  (fixture)

CARD = "không phát được ra card âm thanh của cụm loa"
NAME = "Cụm loa Thôn Đông"
PULSE_CARD = "pcm.!default { type pulse }\nctl.!default { type pulse }\n"


def _heard(rx: ReceiverProcess) -> list[dict]:
    return [r for r in rx.rows() if r["kind"] == "relay"]


def _card_gaps(rx: ReceiverProcess) -> list[dict]:
    return [r for r in rx.rows() if r["kind"] == "alarm" and r["reason"] == CARD]


def _tone_in(recorder) -> bool:
    """The recording holds a quarter second of the tone (LOUD samples in every 10 ms of it)."""
    try:
        samples = recorder.samples()[:, 0]
    except ValueError:  # no data chunk yet
        return False
    loud = np.abs(samples.astype(np.int32)) > LOUD
    window = RATE // 100
    windows = loud[: len(loud) // window * window].reshape(-1, window).any(axis=1)
    run = 0
    for hit in windows:
        run = run + 1 if hit else 0
        if run >= 25:
            return True
    return False


@pytest.mark.paced
def test_a_card_lost_mid_play_is_a_gap_with_its_cause_and_the_receiver_plays_again_when_it_is_back(
        pulse_server, icecast_server, tone_on_air, fake_station, receivers, tmp_path):
    token = fake_station.add(NAME)
    before = pulse_server.record(tmp_path / "before.wav")
    before.wait_flowing()
    rx = receivers(station=fake_station.url, token=token, asoundrc=PULSE_CARD,
                   env={"PULSE_SERVER": pulse_server.address, "BROADCASTER_DEVICE_RETRY_S": "0.5"})
    wait_for(lambda: _heard(rx), 60, "a heard row")
    wait_for(lambda: _tone_in(before), 30, "the tone on the cluster's card")

    pulse_server.kill()  # the card vanishes mid-play
    (gap,) = wait_for(lambda: _card_gaps(rx), 30, f"a gap row '{CARD}'")
    assert gap["status"] == "alarm" and gap["ended_at"] is None and gap["path"] == MOUNT
    wait_for(lambda: [s for s in fake_station.statuses(NAME) if s["state"] == "offline"
                      and (s["last_error"] or "").startswith(CARD)], 30, "an 'offline' status naming the card")
    first = _heard(rx)[0]
    assert first["status"] == "aired" and first["ended_at"] is not None  # the heard row ended with the card
    assert rx.proc.poll() is None, rx.stderr()

    pulse_server.restart()  # plugged back in
    after = pulse_server.record(tmp_path / "after.wav")
    after.wait_flowing()
    wait_for(lambda: len(_heard(rx)) == 2, 60, "a second heard row once the card is back")
    wait_for(lambda: _tone_in(after), 30, "the tone on the card again")
    rows = rx.rows()
    assert [(r["kind"], r["reason"]) for r in rows] == [("relay", None), ("alarm", CARD), ("relay", None)], rows
    assert rows[1]["ended_at"] is not None and rows[1]["ended_at"] <= rows[2]["started_at"]
    wait_for(lambda: [s for s in fake_station.statuses(NAME)[-3:] if s["state"] == "playing"], 30,
             "a 'playing' status again")
    uploaded = wait_for(lambda: fake_station.log_rows(NAME) if len(fake_station.log_rows(NAME)) >= 2 else None,
                        30, "the heard row and the card's gap uploaded")
    assert [(r["local_id"], r["kind"], r["cause"]) for r in uploaded[:2]] == [(1, "heard", None), (2, "gap", CARD)]
    assert rx.stop() == 0
    assert "Traceback" not in rx.stderr(), rx.stderr()
