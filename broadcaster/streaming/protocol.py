"""What the station uses from its Icecast fan-out (streaming/fanout.py; test fakes implement it fully).

The fan-out sends what the sound card airs to the main mount and to every zone's mount (each
zone mount carries the programme too, so a zone's receivers never switch streams); an urgent
for some zones replaces the programme on those zones' mounts only, for its length.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterable, Protocol


class ZoneAirResult(Enum):
    AIRED = "aired"  # every sample was handed to the zones' encoders
    STOPPED = "stopped"  # the stop event was set (the officer ended it)
    NO_STREAM = "no_stream"  # the fan-out is off or has no connection to Icecast at all


@dataclass(frozen=True)
class MountState:
    mount: str  # e.g. "/dai.mp3", "/dai-zone-thon-dong.mp3"
    zone: str | None  # None: the main mount
    connected: bool
    since: str | None  # ISO time of the last connect or disconnect
    last_error: str | None  # one Vietnamese line, never with the password


class Fanout(Protocol):
    def start(self) -> None:
        """Connect the encoders (non-blocking: connecting and reconnecting happen on its thread)."""

    def stop(self) -> None:
        """Close every encoder and connection; idempotent."""

    def tap(self, block) -> None:  # numpy int16 array (frames, channels) at the card's rate
        """What the sound card was just given. Called from the card's callback: never blocks."""

    def ensure_zones(self, zones: Iterable[str]) -> None:
        """Feed a mount for each of these zones as well (zones the receivers registered with)."""

    def air_to_zones(self, zones: list[str], path: Path, *, stop: threading.Event) -> ZoneAirResult:
        """Play a rendered file (WAV) on these zones' mounts instead of the programme, at real time; blocks."""

    def states(self) -> list[MountState]:
        """Each mount's connection state, for the console and `receivers list`."""


__all__ = ["Fanout", "MountState", "ZoneAirResult"]
