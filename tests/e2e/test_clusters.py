"""Issue 14 tests 6 and 7, end to end with real processes: `broadcaster serve` feeding a real Icecast
(Debian's icecast2), and `broadcaster receiver` clusters each playing on its own ALSA file card
(tests/support/cards.py), one of them inside a network namespace of its own (tests/support/netns.py).

Programme items are a 440 Hz tone, the zone urgent's recording a 1500 Hz tone, so each capture
tells what reached that cluster (tone_windows: 50 ms windows whose energy is mostly that tone).
Every wait is on a condition with a deadline; the figures (resume times) are printed, and asserted
only against generous bounds (a loaded 2-core machine runs these).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from support.cards import CaptureWatch, first_window, tone_seconds, tone_windows, write_tone
from support.clusters import ReceiverProc, StationProc, stop_all
from support.icecast import ICECAST, IcecastServer
from support.netns import netns  # noqa: F401  (fixture)
from support.waiting import wait_for

PROGRAMME_HZ, URGENT_HZ = 440, 1500
RATE, WINDOW = 48000, 2400  # 50 ms analysis windows

def _missing_parts() -> str | None:
    """Which parts of issue 14 this tree lacks (they are built in parallel and merged one by one)."""
    import importlib.util

    parts = {"broadcaster.streaming.fanout": "the fan-out", "broadcaster.receiver": "the receiver program",
             "broadcaster.station.receivers": "the station's receivers"}
    missing = [label for module, label in parts.items() if importlib.util.find_spec(module) is None]
    return f"issue 14 parts not in this tree yet: {', '.join(missing)}" if missing else None


pytestmark = [
    pytest.mark.skipif(not ICECAST, reason="icecast2 is not installed (Debian package icecast2)"),
    pytest.mark.skipif(_missing_parts() is not None, reason=_missing_parts() or ""),
]


def _diag(station: StationProc, *receivers: ReceiverProc) -> str:
    parts = [f"--- serve ---\n{station.output()[-3000:]}"]
    parts += [f"--- {r.name} ---\n{r.output()[-2000:]}" for r in receivers]
    return "\n".join(parts)


def _wait(predicate, what: str, station: StationProc, receivers, timeout: float):
    def check():
        assert station.alive(), f"serve stopped while waiting for {what}\n{_diag(station, *receivers)}"
        for r in receivers:
            assert r.alive(), f"receiver {r.name} stopped while waiting for {what}\n{_diag(station, *receivers)}"
        return predicate()

    try:
        return wait_for(check, timeout=timeout, step=0.25)
    except AssertionError as exc:
        if "condition not met" in str(exc):
            raise AssertionError(f"{what}: not within {timeout:g} s\n{_diag(station, *receivers)}") from None
        raise


def _hears(watch: CaptureWatch, rx: ReceiverProc, hz: float, seconds: float, since_frame: int = 0) -> bool:
    return tone_seconds(watch.samples(rx.card, since_frame), hz) >= seconds


def _onset_after(watch: CaptureWatch, card, hz: float, since_frame: int) -> float | None:
    """Wall time of the first frame at or after since_frame where the tone holds for 0.1 s."""
    first = first_window(tone_windows(watch.samples(card, since_frame), hz))
    return None if first is None else watch.wall_time(card, since_frame + first * WINDOW)


def _epoch(text: str) -> float:
    """An as-run time (ISO; naive ones are UTC, as the database stores them) as time.time()."""
    value = datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def _online(station: StationProc, names: set[str]) -> bool:
    rows = {r["name"]: r for r in station.receivers()}
    return all(rows.get(n, {}).get("online") for n in names)


@pytest.fixture
def icecast():
    server = IcecastServer(bind_address=None).start()  # every interface: namespaces reach it too
    try:
        yield server
    finally:
        server.cleanup()


def _has_zone_urgents() -> bool:
    import inspect

    from broadcaster.cli.urgent import urgent_cmd

    return "zone" in inspect.signature(urgent_cmd).parameters or "zones" in inspect.signature(urgent_cmd).parameters


def test_a_slot_reaches_every_cluster_and_a_zone_urgent_only_its_zone(tmp_path, icecast):
    """Test 6: station + Icecast + 3 receivers on loopback (zone Thôn Đông: 2, zone Xóm Bãi: 1)."""
    if not _has_zone_urgents():
        pytest.skip("issue 14 part not in this tree yet: `broadcaster urgent --zone`")
    station = StationProc(tmp_path / "station", icecast)
    clusters = [("Cụm loa chợ", "Thôn Đông"), ("Cụm loa đình", "Thôn Đông"), ("Cụm loa bãi", "Xóm Bãi")]
    tokens = {name: station.add_receiver(name, zone) for name, zone in clusters}
    receivers = [ReceiverProc(tmp_path / f"rx{i}", name, tokens[name], zone=zone)
                 for i, (name, zone) in enumerate(clusters)]
    a1, a2, b1 = receivers
    programme = write_tone(tmp_path / "programme.wav", PROGRAMME_HZ, 40.0)
    urgent = write_tone(tmp_path / "urgent.wav", URGENT_HZ, 4.0)
    watch = CaptureWatch([station.card] + [r.card for r in receivers]).start()
    try:
        station.start()
        # the main mount and one per known zone carry the station's sound from the start
        for mount in ("/dai.mp3", "/dai-zone-thon-dong.mp3", "/dai-zone-xom-bai.mp3"):
            icecast.wait_mount(mount, timeout=60)
        for r in receivers:
            r.start(station.url)
        _wait(lambda: _online(station, {n for n, _ in clusters}), "every cluster reports online", station,
              receivers, 90)
        _wait(lambda: all(watch.frames(r.card) > RATE for r in receivers), "every cluster's card is playing",
              station, receivers, 60)

        station.add_tone_slot("Tin thử cụm loa", programme, seconds=40.0)
        _wait(lambda: all(_hears(watch, r, PROGRAMME_HZ, 3.0) for r in receivers),
              "the slot's tone reaches every cluster", station, receivers, 90)

        # an urgent for Xóm Bãi only, while the programme is on air
        t_urgent = time.time()
        run = station.cli("urgent", "--file", str(urgent), "--zone", "Xóm Bãi", timeout=180)
        assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n{_diag(station, *receivers)}"
        _wait(lambda: _hears(watch, b1, URGENT_HZ, 3.0), "the zone urgent reaches Xóm Bãi's cluster", station,
              receivers, 60)
        t_heard = _onset_after(watch, b1.card, URGENT_HZ, 0)
        print(f"zone urgent: command → first 1500 Hz at Xóm Bãi's card: {t_heard - t_urgent:.2f} s")

        rows = _wait(lambda: station.as_run("title = ? and status != 'on_air'", "Tin thử cụm loa"),
                     "the slot ends", station, receivers, 120)
        assert [r["status"] for r in rows] == ["aired"], rows
        # the clusters are a little behind the card (encoder, Icecast, decoder): they have played
        # what the slot sent once their cards have gone on a few seconds past its end
        ended = time.time() + 8.0
        _wait(lambda: time.time() >= ended and all((watch.wall_time(r.card, watch.frames(r.card) - 1) or 0) >= ended
                                                   for r in receivers),
              "the cards have played past the slot's end", station, receivers, 60)
    finally:
        stop_all(*receivers, station)
        watch.stop()

    heard = {r.name: (tone_seconds(watch.samples(r.card), PROGRAMME_HZ), tone_seconds(watch.samples(r.card), URGENT_HZ))
             for r in [*receivers]}
    card = (tone_seconds(watch.samples(station.card), PROGRAMME_HZ), tone_seconds(watch.samples(station.card), URGENT_HZ))
    print("tone seconds (440 Hz, 1500 Hz) per cluster:", heard, "station card:", card)
    # the slot aired on the card whole, and the zone urgent did not touch the card (nor the main mount)
    assert card[0] >= 36.0 and card[1] == 0.0, card
    # each capture holds the slot; Thôn Đông never heard the urgent, Xóm Bãi heard it in place of the programme
    for r in (a1, a2):
        assert heard[r.name][0] >= 30.0 and heard[r.name][1] == 0.0, (r.name, heard[r.name])
    assert heard[b1.name][1] >= 3.0 and heard[b1.name][0] >= 20.0, heard[b1.name]
    for r in receivers:  # the source password never reaches a cluster or the station's output
        assert icecast.source_password not in r.output()
    assert icecast.source_password not in station.output()


def test_clusters_ride_out_a_lost_icecast_and_a_cut_link(tmp_path, icecast, netns):
    """Test 7: Icecast killed and restarted mid-slot; the cluster's own network cut for 30 s and restored."""
    ns = netns()
    station = StationProc(tmp_path / "station", icecast, host="0.0.0.0", public_host=ns.host_ip)
    name, zone = "Cụm loa bến đò", "Thôn Đông"
    rx = ReceiverProc(tmp_path / "rx", name, station.add_receiver(name, zone), zone=zone, netns=ns)
    first = write_tone(tmp_path / "first.wav", PROGRAMME_HZ, 60.0)
    second = write_tone(tmp_path / "second.wav", PROGRAMME_HZ, 75.0)
    watch = CaptureWatch([station.card, rx.card]).start()
    figures: dict[str, float] = {}
    try:
        station.start()
        icecast.wait_mount("/dai-zone-thon-dong.mp3", timeout=60)
        rx.start(station.url_for(ns.host_ip))
        _wait(lambda: _online(station, {name}), "the cluster reports online", station, [rx], 90)
        station.add_tone_slot("Tin một", first, seconds=60.0)
        _wait(lambda: _hears(watch, rx, PROGRAMME_HZ, 3.0), "the slot reaches the cluster", station, [rx], 90)

        # ---- Icecast dies mid-slot and comes back
        icecast.kill()
        t_kill = time.time()
        killed_at = watch.frame_at(rx.card, t_kill)
        _wait(lambda: not tone_windows(watch.samples(rx.card, watch.frame_at(rx.card, time.time() - 1.0)),
                                       PROGRAMME_HZ).any() and time.time() - t_kill > 1.0,
              "the cluster stops hearing the lost stream", station, [rx], 60)
        icecast.start()
        t_back = time.time()
        back_at = watch.frame_at(rx.card, t_back)
        _wait(lambda: _onset_after(watch, rx.card, PROGRAMME_HZ, back_at), "the cluster hears Icecast again",
              station, [rx], 60)
        figures["icecast restart → heard again (s)"] = _onset_after(watch, rx.card, PROGRAMME_HZ, back_at) - t_back
        assert killed_at < back_at

        rows = _wait(lambda: station.as_run("title = ? and status != 'on_air'", "Tin một"), "the first slot ends",
                     station, [rx], 120)
        assert [r["status"] for r in rows] == ["aired"], rows

        # ---- the cluster's link is cut for 30 s
        ns.cut()
        t_cut = time.time()
        _wait(lambda: not _online(station, {name}), "the station sees the cluster offline", station, [rx], 60)
        # a slot starts while it is offline: the station's log says so
        station.add_tone_slot("Tin hai", second, seconds=75.0)
        alarm = _wait(lambda: station.as_run("kind = 'alarm' and slot = ? and title like ?", "Tin hai", f"%{name}%"),
                      "the offline alarm at the slot's start", station, [rx], 60)
        assert len(alarm) == 1 and name in alarm[0]["reason"], alarm
        remaining = 30.0 - (time.time() - t_cut)
        if remaining > 0:
            threading.Event().wait(remaining)  # the scenario's 30 s outage itself, not a wait for luck
        ns.restore()
        t_restore = time.time()
        figures["link cut (s)"] = t_restore - t_cut
        restored_at = watch.frame_at(rx.card, t_restore)
        _wait(lambda: _onset_after(watch, rx.card, PROGRAMME_HZ, restored_at), "the cluster plays again",
              station, [rx], 60)
        figures["link restored → heard again (s)"] = _onset_after(watch, rx.card, PROGRAMME_HZ, restored_at) - t_restore
        _wait(lambda: _online(station, {name}), "the station sees the cluster online again", station, [rx], 60)
        # serve's own watch logged the link lost (outside any slot) and back
        lost = station.as_run("kind = 'alarm' and slot is null and title like ?", f"%mất kết nối%{name}%")
        back = _wait(lambda: station.as_run("kind = 'alarm' and title like ?", f"%kết nối lại%{name}%"),
                     "the station logs the cluster back", station, [rx], 60)
        assert lost and back, (lost, back)

        # the cluster's own log: the gap of the cut, with its cause
        def gaps():
            return [r for r in rx.log_rows() if r["kind"] == "alarm" and r.get("ended_at")]

        def cut_gap():
            for row in gaps():
                start, end = _epoch(row["started_at"]), _epoch(row["ended_at"])
                if start <= t_restore and end >= t_cut + 5:
                    return row
            return None

        gap = _wait(cut_gap, "the cluster's log shows the cut", station, [rx], 60)
        assert gap["reason"] and "\n" not in gap["reason"], gap
        # and the station got it with the cluster's log upload
        uploaded = _wait(lambda: station.query(
            "select l.* from receiver_log l join receivers r on r.id = l.receiver_id where r.name = ? and l.kind = 'gap'",
            name), "the gap is uploaded to the station", station, [rx], 60)
        assert len(uploaded) >= 2, uploaded  # the Icecast outage and the cut
    finally:
        stop_all(rx, station)
        watch.stop()
        print("figures:", {k: round(v, 2) for k, v in figures.items()})

    assert figures["link restored → heard again (s)"] <= 15.0, figures  # the target is 5 s (bench)
    assert figures["icecast restart → heard again (s)"] <= 30.0, figures
    # Icecast's outage never disturbed the station's own card: the first slot aired whole there
    assert tone_seconds(watch.samples(station.card), PROGRAMME_HZ) >= 55.0
