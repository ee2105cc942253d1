"""What the station uses from a player: the one interface the real Player and every fake implement.

The station (play-with-row, slots, relays), the urgent desk and the serve runtime (the
device retry loop, the status page) reach a player only through these members; none of
them probes a player with getattr. tests/playout/test_player_contract.py checks the real
Player and every test fake against this Protocol: member names, signatures and behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .outcome import DeviceFault, Outcome, PlayResult, TapFault
    from .source import Source


@runtime_checkable
class PlayerProtocol(Protocol):
    """One output, one item at a time; every play call returns a PlayResult, never raises for an item."""

    @property
    def is_open(self) -> bool:
        """True while the output runs; False before open(), after close() or after the device was lost."""

    @property
    def now_playing(self) -> Path | None:
        """The file being played (from just before on_start() until play() returns), or None."""

    @property
    def now_playing_label(self) -> str | None:
        """What is on air (a path, a URL, "micro") while an item plays, or None when idle."""

    @property
    def uses_portaudio(self) -> bool:
        """True when the output is a real sound card (PortAudio must be restarted to see it come back)."""

    @property
    def failed_at(self) -> datetime | None:
        """When the output was last lost and not reopened since; None while it works or was closed on purpose."""

    @property
    def failure_reason(self) -> DeviceFault | None:
        """How the output was lost (see failed_at), or None."""

    def take_recoveries(self) -> list[tuple[datetime, datetime, DeviceFault]]:
        """(lost, back, fault) for each loss of the output reopened since the last call; each handed out once."""

    def open(self) -> None:
        """Open the output (silence until something plays). Idempotent; raises PlayoutError when it cannot."""

    def close(self) -> None:
        """Close the output; an item still playing ends as Outcome.CLOSED. Safe to call twice."""

    def set_tap(self, tap: Callable[[object], None] | None) -> None:
        """Hand a copy of every block the card airs to `tap` (the Icecast fan-out: it must never block); None: stop."""

    def take_tap_fault(self) -> TapFault | None:
        """The tap's error if it raised since the last call (the tap was dropped, the card played on); once."""

    def interrupt(self, cause: Outcome) -> None:
        """End the item on air early (faded out); its play call returns `cause` as the outcome.

        Any thread may call it. Idle, it does nothing; from the call of on_start on, it is never lost.
        """

    def play(
        self,
        path: Path,
        *,
        on_start: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> PlayResult:
        """Air one WAV file and wait for its end.

        on_start() runs just before the first sample (commit the as-run row there); it is not
        called when the file cannot be read (Outcome.FAILED) or the output is not open
        (Outcome.NOT_OPEN). `timeout` seconds end it as Outcome.TIMEOUT.
        """

    def play_source(
        self,
        source: Source,
        *,
        label: str | None = None,
        on_start: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> PlayResult:
        """Air any Source (the microphone, a stream) like play() airs a file; the player closes it."""

    def play_stream(
        self,
        url: str,
        *,
        duration_s: float,
        on_start: Callable[[], None] | None = None,
        stall_s: float = 10.0,
    ) -> PlayResult:
        """Relay a network stream for `duration_s` seconds: Outcome.AIRED when the time is over,
        FAILED when it cannot be opened or decoded, ENDED_EARLY when it stops before."""


__all__ = ["PlayerProtocol"]
