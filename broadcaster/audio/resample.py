"""One long-lived ffmpeg resampler: 16-bit samples in at one rate, 16-bit samples out at another.

The render keeps speech at the engine's own rate (22.05 kHz for espeak-ng and Piper, 24 kHz for
the online voices) through the cache, the probe and the item's gain and limiter, and changes the
rate once, here, on the samples the item writes: half the samples to filter, limit and meter in
Python, and the resampling on another core (ffmpeg's process). The bytes ffmpeg answers are handed
to ``on_bytes`` on a reader thread, in order, as they come.

ffmpeg's conversion to 16 bits saturates an overshoot of the band-limited resampler, as
media.to_int16 does.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable

from .. import media
from ..exceptions import AudioError

_READ_BYTES = 1 << 16


class Resampler:
    """``feed`` 16-bit mono bytes at ``in_rate``; ``on_bytes`` gets them at ``out_rate``.

    ``close`` waits for the last bytes and raises what went wrong (ffmpeg's failure, or the
    error ``on_bytes`` raised, e.g. a full disk); ``abort`` stops everything after a failure."""

    def __init__(self, in_rate: int, out_rate: int, on_bytes: Callable[[bytes], None]) -> None:
        self._on_bytes = on_bytes
        self._error: BaseException | None = None
        self._closed = False
        cmd = [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
               "-f", "s16le", "-ar", str(int(in_rate)), "-ac", "1", "-i", "pipe:0",
               "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(int(out_rate)), "pipe:1"]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL)
        except OSError as exc:
            raise AudioError(f"Không chạy được ffmpeg để đổi tần số lấy mẫu: {exc}") from exc
        self._reader = threading.Thread(target=self._read, name="resample-reader", daemon=True)
        self._reader.start()

    def feed(self, data: bytes) -> None:
        """The next samples (16-bit little-endian mono)."""
        if not data:
            return
        try:
            self._proc.stdin.write(data)
        except (BrokenPipeError, OSError) as exc:
            if isinstance(self._error, AudioError):
                raise self._error
            raise AudioError(f"ffmpeg dừng khi đổi tần số lấy mẫu: {self._error or exc}") from exc

    def _read(self) -> None:
        rest = b""
        try:
            while True:
                data = self._proc.stdout.read(_READ_BYTES)
                if not data:
                    break
                data = rest + data if rest else data
                cut = len(data) - len(data) % 2
                rest = data[cut:]
                if cut:
                    self._on_bytes(data[:cut] if rest else data)
        except BaseException as exc:  # raised by feed() or close() on the feeding thread
            self._error = exc
            self._proc.stdout.close()  # ffmpeg's next write fails: it exits, and feed() hears it

    def close(self) -> None:
        """No more input: wait for ffmpeg's last samples to reach ``on_bytes``."""
        if self._closed:
            return
        try:
            self._proc.stdin.close()
        except OSError as exc:
            if self._error is None:
                self._error = exc
        self._reader.join()
        code = self._proc.wait()
        self._closed = True
        if self._error is not None:
            if isinstance(self._error, AudioError):
                raise self._error
            raise AudioError(f"ffmpeg dừng khi đổi tần số lấy mẫu: {self._error}") from self._error
        if code != 0:
            raise AudioError(f"ffmpeg không đổi được tần số lấy mẫu (mã {code})")

    def abort(self) -> None:
        """After a failure: stop ffmpeg and the reader (nothing more reaches ``on_bytes``)."""
        if self._closed:
            return
        self._closed = True
        self._proc.kill()
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        self._proc.wait()
        self._reader.join(timeout=10)  # ffmpeg is gone: its stdout ends, and the reader with it
        try:
            self._proc.stdout.close()
        except OSError:
            pass
