"""Urgent for some zones (issue 14 item 3): a fake Icecast fan-out (the streaming.protocol.Fanout the
station uses, implemented fully; the real one is streaming/fanout.py) and the receivers table the
contract describes (helper h4 builds the real one), made here so the known zones can be looked up."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import numpy as np
from sqlalchemy import text

from broadcaster.streaming.protocol import MountState, ZoneAirResult
from broadcaster.streaming.urls import zone_slug

RECEIVERS_DDL = """
CREATE TABLE IF NOT EXISTS receivers (
    id INTEGER PRIMARY KEY, name VARCHAR(60) NOT NULL UNIQUE, zone VARCHAR, zone_slug VARCHAR,
    token_hash VARCHAR(64) NOT NULL, created_at DATETIME NOT NULL, revoked_at DATETIME, last_seen DATETIME,
    last_status JSON)
"""


def add_receivers(engine, receivers: list[tuple[str, str | None]], *, revoked: tuple[str, ...] = ()) -> None:
    """Receivers (name, zone) as `receivers add NAME --zone ZONE` leaves them; `revoked`: names revoked."""
    with engine.begin() as conn:
        conn.execute(text(RECEIVERS_DDL))
        for n, (name, zone) in enumerate(receivers):
            conn.execute(
                text("INSERT INTO receivers (name, zone, zone_slug, token_hash, created_at, revoked_at) "
                     "VALUES (:name, :zone, :slug, :hash, '2026-12-01 00:00:00', :revoked)"),
                {"name": name, "zone": zone, "slug": zone_slug(zone) if zone else None, "hash": f"{n:064x}",
                 "revoked": "2026-12-01 01:00:00" if name in revoked else None},
            )


def wav_samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


class FakeFanout:
    """The fan-out as the desk sees it: records each air_to_zones call (zones, file, what the probe saw
    on the card meanwhile), airs at `speed`× real time, or until stop when `hold` is set."""

    def __init__(self, *, speed: float = 8.0, hold: bool = False, result: ZoneAirResult | None = None,
                 probe=None) -> None:
        self.speed, self.hold, self.result, self.probe = speed, hold, result, probe
        self.calls: list[dict] = []
        self.zones: set[str] = set()
        self.started = False
        self.taps = 0
        self.airing = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def tap(self, block) -> None:
        self.taps += 1

    def ensure_zones(self, zones) -> None:
        self.zones |= set(zones)

    def air_to_zones(self, zones: list[str], path: Path, *, stop: threading.Event) -> ZoneAirResult:
        call = {"zones": list(zones), "path": Path(path), "samples": wav_samples(Path(path)),
                "probe": self.probe() if self.probe else None, "outcome": None}
        with self._lock:
            self.calls.append(call)
        self.airing.set()
        if self.result is not None:
            call["outcome"] = self.result
            return self.result
        with wave.open(str(path), "rb") as w:
            seconds = w.getnframes() / float(w.getframerate())
        stopped = stop.wait() if self.hold else stop.wait(seconds / self.speed)
        call["outcome"] = ZoneAirResult.STOPPED if stopped else ZoneAirResult.AIRED
        return call["outcome"]

    def states(self) -> list[MountState]:
        return [MountState(mount="/dai.mp3", zone=None, connected=self.started, since=None, last_error=None)] + [
            MountState(mount=f"/dai-zone-{zone_slug(z)}.mp3", zone=z, connected=self.started, since=None,
                       last_error=None) for z in sorted(self.zones)]


ZONES = [("Cụm loa 1", "Thôn Đông"), ("Cụm loa 2", "Xóm Bãi"), ("Cụm loa 3", "Thôn Tây"), ("Cụm loa 4", "Thôn Đông"),
         ("Cụm loa 5", None)]
