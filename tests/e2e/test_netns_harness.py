"""The harness of the cluster tests (issue 14 tests 6, 7): network namespaces with a veth pair
(tests/support/netns.py) and per-process file sound cards watched as they grow (tests/support/cards.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from support.cards import CaptureWatch, FileCard, first_window, tone_seconds, tone_windows, write_tone
from support.netns import NetNamespace, netns, netns_available, sweep_stale  # noqa: F401
from support.waiting import wait_for

CONNECT = "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()"


@pytest.fixture
def listener():
    """A TCP listener on every address of this (root) namespace, accepting in a thread."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", 0))
    sock.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, peer = sock.accept()
            except (TimeoutError, OSError):
                continue
            accepted.append(peer[0])
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def connect_from(ns: NetNamespace, port: int, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(ns.command([sys.executable, "-c", CONNECT, ns.host_ip, str(port), str(timeout)]),
                          capture_output=True, text=True, timeout=timeout + 30)


def test_a_namespace_reaches_this_side_until_cut_and_again_after_restore(netns, listener):
    port, accepted = listener
    ns = netns()
    assert ns.exists()
    ok = connect_from(ns, port, 10)
    assert ok.returncode == 0, ok.stderr
    wait_for(lambda: ns.peer_ip in accepted, timeout=10)  # it came from inside, through the pair

    ns.cut()
    before = len(accepted)
    cut = connect_from(ns, port, 2)
    assert cut.returncode != 0, "a connection passed a cut link"
    assert len(accepted) == before

    ns.restore()
    # the link comes up in a moment (carrier, ARP): poll for the first connection that passes
    wait_for(lambda: connect_from(ns, port, 3).returncode == 0, timeout=30, step=0.1)


def test_a_process_started_inside_cannot_reach_this_machine_by_loopback(netns, listener):
    """127.0.0.1 inside is the namespace's own lo: everything the cluster reaches goes over the pair."""
    port, _ = listener
    ns = netns()
    run = subprocess.run(ns.command([sys.executable, "-c", CONNECT, "127.0.0.1", str(port), "2"]),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0


def test_namespaces_are_removed_after_a_failing_test_body(listener):
    ok, reason = netns_available()
    if not ok:
        pytest.skip(reason)
    with pytest.raises(ZeroDivisionError):
        with NetNamespace("fails") as ns:
            proc = ns.run([sys.executable, "-c", "import time; time.sleep(600)"])
            1 / 0
    assert not ns.exists()
    assert proc.poll() is not None  # what ran inside was stopped too


def test_a_crashed_run_leaves_nothing_that_blocks_the_next(tmp_path):
    """A run killed before its cleanup: its namespace carries a dead pid, and the next one sweeps it."""
    ok, reason = netns_available()
    if not ok:
        pytest.skip(reason)
    code = ("import sys, os; sys.path.insert(0, sys.argv[1]); from support.netns import NetNamespace; "
            "ns = NetNamespace('crash').create(); print(ns.name, ns.host_if, flush=True); os._exit(9)")
    tests_dir = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    run = subprocess.run([sys.executable, "-c", code, tests_dir], capture_output=True, text=True, timeout=60)
    assert run.returncode == 9, run.stderr
    name, link = run.stdout.split()
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert name in listing  # left behind
    removed = sweep_stale()
    assert name in removed
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert subprocess.run(["ip", "link", "show", link], capture_output=True).returncode != 0


def test_each_card_is_captured_apart_and_each_frame_gets_a_wall_time(tmp_path):
    """Two players (the real `broadcaster play`) on two file cards at once: each capture holds only
    its own tone, and the watcher dates the frames as they arrive (the player paces the null sink)."""
    from pathlib import Path

    bin_ = Path(sys.executable).parent / "broadcaster"
    cards = [FileCard(tmp_path / "a"), FileCard(tmp_path / "b")]
    tones = [write_tone(tmp_path / "a.wav", 440, 3.0), write_tone(tmp_path / "b.wav", 1500, 3.0)]
    import os

    base = dict(os.environ, BROADCASTER_ENGINE_ORDER='["espeak"]')
    with CaptureWatch(cards) as watch:
        t0 = time.time()
        procs = [subprocess.Popen([str(bin_), "play", str(tone), "--data-dir", str(tmp_path / f"data-{card.name}")],
                                  env=card.env(base), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for card, tone in zip(cards, tones)]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
    a, b = (watch.samples(card) for card in cards)
    assert tone_seconds(a, 440) >= 2.5 and tone_seconds(a, 1500) == 0
    assert tone_seconds(b, 1500) >= 2.5 and tone_seconds(b, 440) == 0
    onset = first_window(tone_windows(a, 440))
    assert onset is not None
    first_seen = watch.wall_time(cards[0], onset * 2400)
    last_seen = watch.wall_time(cards[0], len(a) - 1)
    assert first_seen is not None and last_seen is not None and t0 <= first_seen <= last_seen
    # paced: three seconds of tone took (about) three seconds to arrive, not a burst
    assert last_seen - first_seen >= 2.0
    assert np.abs(a).max() > 5000


@pytest.mark.parametrize("missing, needle", [("caps", "root"), ("ip", "iproute2")])
def test_where_namespaces_cannot_be_made_the_skip_says_why(monkeypatch, missing, needle):
    import support.netns as netns_module

    monkeypatch.setattr(netns_module, "_available", None)  # not the cached answer of this machine
    if missing == "caps":
        monkeypatch.setattr(netns_module, "_has_caps", lambda *bits: False)
    else:
        monkeypatch.setattr(netns_module, "IP", None)
    ok, reason = netns_module.netns_available()
    assert not ok and needle in reason, reason
