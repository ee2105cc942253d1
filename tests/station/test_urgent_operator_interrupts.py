"""An operator's skip, stop-programme or urgent stop is never lost in the instant an item starts.

Between an item's turn (its as-run row committed: the console shows it on air) and the moment
the sound card's callback has it, the player ignores an interrupt. These tests put the request
exactly there, so they fail whenever a single interrupt is sent and forgotten.
"""

from __future__ import annotations

from playout_helpers import tone, write_wav

from broadcaster.station.urgent import SKIP_REASON, STOP_PROGRAMME_REASON, TONE_TITLE, URGENT_STOP_REASON

LONG_S = 60.0  # 15 s on the 4x fake card: an interrupt that is lost shows as "aired"


def _item_after(station, onair, tmp_path, ask):
    """Take the item's turn like the slot loop, call ask() before its play() begins, then play it."""
    path = write_wav(tmp_path / "long.wav", tone(440, LONG_S))
    gate = station.air_gate
    gate.begin_slot("Thử", ["Tin A"])
    gate.enter_item()
    try:
        assert ask() is True
        return station.play_file(path, player=onair.player, title="Tin A", slot="Thử")
    finally:
        gate.leave_item()
        gate.end_slot()


def test_skip_reaches_an_item_that_is_just_starting(station, onair, tmp_path):
    row = _item_after(station, onair, tmp_path, onair.skip)
    assert (row.status.value, row.reason) == ("interrupted", SKIP_REASON)


def test_stop_programme_reaches_an_item_that_is_just_starting(station, onair, tmp_path):
    row = _item_after(station, onair, tmp_path, onair.stop_programme)
    assert (row.status.value, row.reason) == ("interrupted", STOP_PROGRAMME_REASON)


def test_skip_never_reaches_the_next_item(station, onair, tmp_path):
    # the re-sent interrupt belongs to the item that was on air, not to the one after it
    row = _item_after(station, onair, tmp_path, onair.skip)
    assert row.status.value == "interrupted"
    short = write_wav(tmp_path / "short.wav", tone(550, 1.0))
    station.air_gate.enter_item()
    try:
        after = station.play_file(short, player=onair.player, title="Tin B")
    finally:
        station.air_gate.leave_item()
    assert (after.status.value, after.reason) == ("aired", None)


def test_urgent_stop_reaches_the_tone_that_is_just_starting(station, onair, tmp_path, monkeypatch):
    station.settings.attention_tone = write_wav(tmp_path / "long-tone.wav", tone(880, LONG_S))
    real_play_file = station.asrun.play_file

    def play_file(path, **kwargs):
        if kwargs.get("title") == TONE_TITLE:
            assert onair.urgent.stop() is True  # the stop lands as the desk starts the tone
        return real_play_file(path, **kwargs)

    monkeypatch.setattr(station.asrun, "play_file", play_file)
    job = onair.urgent.request(text="Lũ quét ở thôn Bản Mế.")
    assert job.done.wait(30) and job.state == "stopped"
    rows = station.as_run_log()
    assert [(r.title, r.status.value, r.reason) for r in rows] == [(TONE_TITLE, "interrupted", URGENT_STOP_REASON)]
