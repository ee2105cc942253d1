"""One long-lived ffmpeg resampler: 16-bit samples in at one rate, written at another straight
into the file being made.

The render keeps speech at the engine's own rate (22.05 kHz for espeak-ng and Piper, 24 kHz for
the online voices) through the cache, the probe and the item's gain and limiter, and changes the
rate once, here, on the samples the item writes: half the samples to filter, limit and meter in
Python, and the resampling on another core (ffmpeg's process). ffmpeg's standard output is the
item file itself, at the place the item has reached (the child shares the file's offset): the
resampled samples never pass back through this process.

ffmpeg's conversion to 16 bits saturates an overshoot of the band-limited resampler, as
media.to_int16 does.
"""

from __future__ import annotations

import re
import subprocess
import tempfile

from .. import media
from ..exceptions import AudioError


class Resampler:
    """``feed`` 16-bit mono bytes at ``in_rate``; ffmpeg writes them at ``out_rate`` into the
    open file ``out_fd`` from its current offset (which it moves on, shared with the caller's).

    ``close`` waits for the last samples to be written and raises AudioError with ffmpeg's reason
    when it failed (e.g. a full disk); ``abort`` stops it after a failure."""

    def __init__(self, in_rate: int, out_rate: int, out_fd: int) -> None:
        self._closed = False
        self._errors = tempfile.TemporaryFile()  # ffmpeg's reason, read when it fails (no pipe to fill)
        cmd = [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
               "-f", "s16le", "-ar", str(int(in_rate)), "-ac", "1", "-i", "pipe:0",
               "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(int(out_rate)), "pipe:1"]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out_fd, stderr=self._errors)
        except OSError as exc:
            self._errors.close()
            raise AudioError(f"Không chạy được ffmpeg để đổi tần số lấy mẫu: {exc}") from exc

    def feed(self, data: bytes) -> None:
        """The next samples (16-bit little-endian mono)."""
        if not data:
            return
        try:
            self._proc.stdin.write(data)
        except (BrokenPipeError, OSError) as exc:  # ffmpeg has stopped: its reason
            self._proc.wait()
            raise AudioError(f"ffmpeg dừng khi đổi tần số lấy mẫu: {self._reason() or exc}") from exc

    def close(self) -> None:
        """No more input: wait until ffmpeg has written its last samples."""
        if self._closed:
            return
        self._closed = True
        try:
            try:
                self._proc.stdin.close()
            except OSError:
                pass  # it stopped early: its exit code and reason say why
            code = self._proc.wait()
            if code != 0:
                raise AudioError(f"ffmpeg không đổi được tần số lấy mẫu (mã {code}): {self._reason() or '-'}")
        finally:
            self._errors.close()

    def abort(self) -> None:
        """After a failure: stop ffmpeg (nothing more reaches the file)."""
        if self._closed:
            return
        self._closed = True
        self._proc.kill()
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        self._proc.wait()
        self._errors.close()

    def _reason(self) -> str:
        try:
            self._errors.seek(0)
            lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        # "[out#0/s16le @ 0x55…] Error closing file: No space left on device": the reason, not ffmpeg's insides
        return re.sub(r"^\[[^\]]*\]\s*", "", lines[-1]) if lines else ""
