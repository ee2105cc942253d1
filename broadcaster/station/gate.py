"""The air gate: turn-taking for the one player between the slot loop and urgent announcements.

The slot loop enters the gate around every programme item; the urgent desk *seizes* it, which
stops new items from starting and fades out the item on air (Player.interrupt) until its play()
has returned. Only then does the desk play, so the two never race for the player. When the desk
releases the gate the slot loop replays the interrupted item from its start (a new as-run row) or
drops the rest of the slot (setting `urgent_resume`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

SEIZE_POLL_S = 0.005  # how often the desk re-sends the interrupt while a programme item is still playing
SEIZE_TIMEOUT_S = 10.0


class AirGate:
    """Turn-taking for the player between the slot loop and urgent announcements.

    The slot loop calls `enter_item()` before each programme item (it blocks while an urgent
    announcement holds the gate) and `leave_item()` after it. The desk calls
    `seize(interrupt)` and `release()`. Thread-safe; one per station.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._urgent = 0  # urgent holds in force (nested holds of one desk count)
        self._item_active = False
        self._item_seq = 0  # counts programme items entered: an interrupt re-sent for one never reaches the next
        self._stop_programme = False
        self.slot: str | None = None  # the slot being aired, for status()
        self.upcoming: list[str] = []  # titles still to come in that slot

    # -- the slot loop
    def enter_item(self) -> None:
        """Wait until no urgent announcement holds the gate, then mark a programme item on air."""
        with self._cond:
            while self._urgent:
                self._cond.wait()
            self._item_active = True
            self._item_seq += 1

    def leave_item(self) -> None:
        """The programme item's play() has returned."""
        with self._cond:
            self._item_active = False
            self._cond.notify_all()

    def wait_clear(self) -> None:
        """Block until no urgent announcement holds the gate."""
        with self._cond:
            while self._urgent:
                self._cond.wait()

    def begin_slot(self, name: str, titles: list[str]) -> None:
        """A slot starts airing: forget an old stop request, remember what is coming (status)."""
        with self._cond:
            self._stop_programme = False
            self.slot, self.upcoming = name, list(titles)

    def end_slot(self) -> None:
        with self._cond:
            self.slot, self.upcoming, self._stop_programme = None, [], False

    def take_stop_programme(self) -> bool:
        """True once after stop_programme() was asked for during this slot."""
        with self._cond:
            asked, self._stop_programme = self._stop_programme, False
            return asked

    # -- operators and the desk
    @property
    def urgent_active(self) -> bool:
        return self._urgent > 0

    @property
    def item_active(self) -> bool:
        return self._item_active

    def ask_stop_programme(self) -> bool:
        """Ask the slot loop to drop the rest of its slot; False when no slot airs."""
        with self._cond:
            if self.slot is None:
                return False
            self._stop_programme = True
            return True

    def interrupt_item(self, interrupt: Callable[[], None], *, timeout: float = SEIZE_TIMEOUT_S) -> bool:
        """Fade out the programme item on air (an operator's skip or stop); False when none is.

        Returns at once. Like seize(), a thread keeps sending the interrupt until that item's
        play() has returned: an item between its turn and its first sample (row committed,
        feed not yet with the callback) ignores an interrupt, and one sent once would be lost.
        """
        with self._cond:
            if not self._item_active or self._urgent:
                return False
            seq = self._item_seq

        def keep_sending() -> None:
            deadline = time.monotonic() + timeout
            with self._cond:
                # checked and sent under the lock: the next item cannot enter in between
                while self._item_active and self._item_seq == seq and not self._urgent:
                    interrupt()
                    if time.monotonic() > deadline:
                        log.warning("the programme item did not stop within %.0f s", timeout)
                        return
                    self._cond.wait(SEIZE_POLL_S)

        threading.Thread(target=keep_sending, name="interrupt-item", daemon=True).start()
        return True

    def seize(self, interrupt: Callable[[], None] | None, *, timeout: float = SEIZE_TIMEOUT_S) -> bool:
        """Hold the gate for an urgent announcement; returns whether a programme item was cut.

        No new programme item starts from now on; the one on air is faded out. The call
        keeps sending the interrupt until that item's play() has returned: an item that was
        just starting (its feed not yet handed to the callback) ignores the first one.
        """
        cut = False
        deadline = time.monotonic() + timeout
        with self._cond:
            self._urgent += 1
            while self._item_active:
                cut = True
                if interrupt is not None:
                    interrupt()
                if time.monotonic() > deadline:
                    log.warning("the programme item did not stop within %.0f s; airing the urgent item anyway", timeout)
                    break
                self._cond.wait(SEIZE_POLL_S)
        return cut

    def release(self) -> None:
        """Give the player back to the slot loop."""
        with self._cond:
            self._urgent = max(0, self._urgent - 1)
            self._cond.notify_all()


__all__ = ["AirGate", "SEIZE_POLL_S", "SEIZE_TIMEOUT_S"]
