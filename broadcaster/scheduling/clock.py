"""The clock, injected: the real one on air, accelerated or hand-driven ones in tests.

The scheduler takes every "now" and every wait from a Clock, so a whole broadcast day
can run in a few seconds (AcceleratedClock) or step by step (FakeClock) through the
same code that runs on air. `now()` is always an aware UTC datetime.
"""

from __future__ import annotations

import threading
import time as _time
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """What the scheduler needs from time."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        """Block until `event` is set (→ True) or `seconds` of this clock's time pass (→ False).

        None waits for the event only.
        """
        ...

    def sleep(self, seconds: float) -> None:
        """Let `seconds` of this clock's time pass."""
        ...


class RealClock:
    """Wall-clock time: what runs on air."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        return event.wait(None if seconds is None else max(0.0, seconds))

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            _time.sleep(seconds)

    def __repr__(self) -> str:
        return "RealClock()"


class AcceleratedClock:
    """Time that starts at `start` and runs `speed` times faster than the wall clock.

    24 hours at speed 20 000 take 4.3 s. Waits are scaled down by the same factor, so the
    scheduler's own thread sleeps between jobs exactly as it does on air.
    """

    def __init__(self, start: datetime, *, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start.astimezone(timezone.utc)
        self.speed = float(speed)
        self._t0 = _time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(_time.monotonic() - self._t0) * self.speed)

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        return event.wait(None if seconds is None else max(0.0, seconds) / self.speed)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            _time.sleep(seconds / self.speed)

    def __repr__(self) -> str:
        return f"AcceleratedClock(start={self.start.isoformat()}, speed={self.speed:g})"


class FakeClock:
    """Time that moves only when told to (`advance`, `set`), or when someone sleeps on it.

    `sleep` moves the clock forward at once (the sleeper "spends" the time); `wait`
    blocks the caller until another thread moves the clock past the deadline or sets
    the event, so a test can step the scheduler through a day deterministically.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        self._now = start.astimezone(timezone.utc)
        self._changed = threading.Condition()

    def now(self) -> datetime:
        with self._changed:
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (never backwards: a clock that runs back would re-fire jobs)."""
        with self._changed:
            moment = moment.astimezone(timezone.utc)
            if moment < self._now:
                raise ValueError("a FakeClock does not run backwards")
            self._now = moment
            self._changed.notify_all()

    def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds`; returns the new time."""
        with self._changed:
            self._now += timedelta(seconds=seconds)
            self._changed.notify_all()
            return self._now

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        with self._changed:
            deadline = None if seconds is None else self._now + timedelta(seconds=max(0.0, seconds))
        while True:
            if event.is_set():
                return True
            with self._changed:
                if deadline is not None and self._now >= deadline:
                    return False
                # the event has no link to the condition: look at it again every few ms
                self._changed.wait(0.005)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def __repr__(self) -> str:
        return f"FakeClock({self.now().isoformat()})"


__all__ = ["Clock", "RealClock", "AcceleratedClock", "FakeClock"]
