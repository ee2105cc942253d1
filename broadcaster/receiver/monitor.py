"""What the receiver plays: the station's stream, with its volume, watched for dead air.

HeardSource wraps the live StreamSource the Player airs. It scales by the cluster's volume and
looks at each block once as the player reads it: the first sound is reported (a cluster has
heard the station from then on, not from the moment it connected), `dead_air_s` of output at
or under the silence level is dead air (reported with the moment it began), sound after it
ends the dead air. The player's own silence check is off for it (check_silence = False): a silent stream is
logged, not cut, so the cluster hears the station the moment it speaks again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum

import numpy as np


class Heard(Enum):
    SOUND = "sound"  # the first sound of the stream, or sound again after dead air
    DEAD_AIR = "dead_air"  # silence for dead_air_s (the event's time is when it began)


class HeardSource:
    """A live Source (playout.source.Source) over another one: volume, dead-air events, what was read."""

    live = True
    check_silence = False  # dead air is watched here, and logged rather than cut

    def __init__(self, inner, *, sample_rate: int, dead_air_s: float, volume: float = 1.0,
                 silence_dbfs: float = -60.0, on_event: Callable[[Heard, float], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """inner: the StreamSource; on_event(kind, unix time): called from the player's feeding thread."""
        self.inner = inner
        self.label = inner.label
        self.channels = inner.channels
        self.sample_rate = int(sample_rate)
        self.volume = float(volume)
        self._limit = max(1, round(dead_air_s * self.sample_rate))
        self._quiet = int(32767 * 10 ** (silence_dbfs / 20))
        self._on_event = on_event or (lambda kind, at: None)
        self._clock = clock
        self._silent = 0
        self.sounding: bool | None = None  # None until the stream's first sound or first dead air
        self.frames = 0

    @property
    def buffered_s(self) -> float:
        return float(getattr(self.inner, "buffered_s", 0.0))

    def read(self, frames: int) -> np.ndarray | None:
        data = self.inner.read(frames)
        if data is None or len(data) == 0:
            return data
        if self.volume != 1.0:
            data = np.clip(np.rint(data.astype(np.float32) * self.volume), -32768, 32767).astype(np.int16)
        self.frames += len(data)
        if int(data.max()) <= self._quiet and int(data.min()) >= -self._quiet:
            self._silent += len(data)
            if self.sounding is not False and self._silent >= self._limit:
                self.sounding = False
                self._on_event(Heard.DEAD_AIR, self._clock() - self._silent / self.sample_rate)
        else:
            self._silent = 0
            if self.sounding is not True:
                self.sounding = True
                self._on_event(Heard.SOUND, self._clock())
        return data

    def close(self) -> None:
        self.inner.close()


__all__ = ["Heard", "HeardSource"]
