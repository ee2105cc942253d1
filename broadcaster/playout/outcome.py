"""What happened to an item on air, as a value: the player's result and its outcome.

The player says *what* happened (an enum, with a few technical figures); the words an
officer reads in the as-run log are made from it in one place, station/outcomes.py.
No layer learns what happened by reading a reason string.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Outcome(Enum):
    """How one item ended."""

    AIRED = "aired"  # played to its end (a relay: its set time is over)
    # ended early on purpose: interrupt(cause) with one of these, or the player's own timeout/close
    URGENT_CUT = "urgent_cut"  # faded out for an urgent announcement
    URGENT_STOPPED = "urgent_stopped"  # an urgent announcement stopped by the operator
    URGENT_SHUTDOWN = "urgent_shutdown"  # an urgent announcement stopped because serve is stopping
    SKIPPED = "skipped"  # the operator skipped the item
    PROGRAMME_STOPPED = "programme_stopped"  # the operator stopped the programme
    INTERRUPTED = "interrupted"  # interrupted without a more precise cause
    CLOSED = "closed"  # the player was closed while the item played
    TIMEOUT = "timeout"  # play(timeout=...) ran out (`seconds` is the timeout)
    # went wrong
    SILENCE = "silence"  # dead air for `seconds`
    DEVICE_LOST = "device_lost"  # the output stream stopped or stalled (`fault` says which)
    NOT_OPEN = "not_open"  # the player had no open stream
    NO_SIGNAL = "no_signal"  # a live source gave nothing for `seconds` at its start (`detail`: its label)
    ENDED_EARLY = "ended_early"  # a relayed stream ended after `seconds` of its `planned_s`
    PLAYOUT_ERROR = "playout_error"  # a bug in the feeding path (`detail`: the exception)
    FAILED = "failed"  # the file or source could not be read (`detail`: the error's text)

    @property
    def is_interrupt_cause(self) -> bool:
        """Whether this is a cause interrupt() accepts (an item ended early on purpose)."""
        return self in _CAUSES


_CAUSES = frozenset(
    {
        Outcome.URGENT_CUT,
        Outcome.URGENT_STOPPED,
        Outcome.URGENT_SHUTDOWN,
        Outcome.SKIPPED,
        Outcome.PROGRAMME_STOPPED,
        Outcome.INTERRUPTED,
        Outcome.CLOSED,
        Outcome.TIMEOUT,
    }
)


class DeviceFault(Enum):
    """Why the output stream was lost (Outcome.DEVICE_LOST, Player.failure_reason)."""

    STOPPED = "stopped"  # the stream stopped by itself (card unplugged, driver error)
    STALLED = "stalled"  # the card stopped asking for audio
    CLOSED = "closed"  # the stream went away while closing


@dataclass(frozen=True)
class PlayResult:
    """How one item went, and when (all datetimes on the player's clock, UTC)."""

    outcome: Outcome
    frames: int
    started_at: datetime
    ended_at: datetime
    # when the callback first handed this item's samples to the stream (urgent latency, as-run
    # start times); None when nothing was handed over
    first_sample_at: datetime | None = None
    detail: str | None = None  # technical text: the error that failed it, a live source's label
    seconds: float | None = None  # the silence, the timeout, or how long a relay lasted
    planned_s: float | None = None  # ENDED_EARLY: the relay's set time
    fault: DeviceFault | None = None  # DEVICE_LOST: how the stream was lost
    underruns: int = 0  # times the feed ran dry on an item that still aired


@dataclass(frozen=True)
class TapFault:
    """The card's tap (the Icecast fan-out) raised in the callback: it was dropped, the card played on.

    Handed out once by Player.take_tap_fault(); the station logs it as one alarm row."""

    at: datetime  # on the player's clock, UTC
    error: Exception  # what the tap raised (its traceback goes to the station's journal)


__all__ = ["DeviceFault", "Outcome", "PlayResult", "TapFault"]
