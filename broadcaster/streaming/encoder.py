"""One Icecast source connection: an ffmpeg subprocess (imageio-ffmpeg) taking PCM s16le on stdin,
encoding MP3 or Ogg/Opus at a speech bitrate and sending it to one mount with the icecast protocol.

ffmpeg's stderr holds the source URL with the password: it is read here into a small tail that only
`cause()` looks at, and what leaves this module is one Vietnamese line chosen from known failures,
never the raw text. Writes never block the fan-out thread: stdin is non-blocking and a chunk that
does not fit (Icecast stalled) is dropped.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import threading
import time

from .urls import FORMATS, StreamTarget

log = logging.getLogger(__name__)

CONNECTED_AFTER_S = 1.5  # an encoder still running this long after it started has been accepted
STDERR_TAIL = 4096
PIECE = 4096  # PIPE_BUF on Linux: a write this small is atomic on a pipe


def encoder_argv(ffmpeg: str, target: StreamTarget, mount: str, *, fmt: str, bitrate_kbps: int,
                 sample_rate: int) -> list[str]:
    """ffmpeg's command line for one mount (it holds the password: never log it)."""
    codec = ["-c:a", "libopus", "-application", "voip", "-ar", "48000"] if fmt == "opus" else \
        ["-c:a", "libmp3lame", "-ar", str(sample_rate if sample_rate in (32000, 44100, 48000) else 48000)]
    # Ogg pages of 20 ms (its default is 1 s): a receiver hears within a page, not a second later
    muxer = ["-f", "ogg", "-page_duration", "20000"] if fmt == "opus" else ["-f", "mp3"]
    return [ffmpeg, "-hide_banner", "-nostats", "-loglevel", "warning",
            "-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
            *codec, "-b:a", f"{bitrate_kbps}k", "-ac", "1", "-flush_packets", "1",
            "-content_type", FORMATS[fmt][1], "-ice_name", "broadcaster",
            *muxer, target.source_url(mount)]


def failure_line(stderr_tail: str, returncode: int | None, redacted: str) -> str:
    """What went wrong, as one Vietnamese line without the password (ffmpeg's text is never shown)."""
    text = stderr_tail.lower()
    if "401" in text or "unauthorized" in text:
        return f"Icecast từ chối mật khẩu nguồn (source) của {redacted}; kiểm tra stream_url trong settings.toml."
    if "403" in text or "forbidden" in text or "mountpoint in use" in text:
        return f"Icecast không nhận điểm phát {redacted} (đang có nguồn khác hoặc bị cấm)."
    if "connection refused" in text:
        return f"Không kết nối được máy chủ Icecast {redacted} (máy chủ không chạy hoặc sai cổng)."
    if "timed out" in text or "timeout" in text:
        return f"Máy chủ Icecast {redacted} không trả lời (quá thời gian chờ)."
    if "name or service not known" in text or "failed to resolve" in text or "resolve" in text:
        return f"Không tìm thấy máy chủ Icecast của {redacted} (sai tên máy)."
    if "broken pipe" in text or "connection reset" in text or "end of file" in text or "i/o error" in text:
        return f"Mất kết nối tới máy chủ Icecast {redacted}."
    return f"Bộ mã hóa luồng {redacted} dừng (mã {returncode}); đài sẽ nối lại."


class Encoder:
    """One running ffmpeg for one mount; replaced by a new one on each reconnect."""

    def __init__(self, argv: list[str], redacted: str) -> None:
        self.redacted = redacted
        self.started = time.monotonic()
        self.dropped = 0  # chunks dropped because the pipe was full
        self._tail = b""
        self._lock = threading.Lock()
        self._broken = False  # the pipe broke (ffmpeg gone): nothing more is written
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        os.set_blocking(self.proc.stdin.fileno(), False)
        self._reader = threading.Thread(target=self._read_stderr, name="stream-encoder-log", daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        try:
            while chunk := stream.read1(1024):
                with self._lock:
                    self._tail = (self._tail + chunk)[-STDERR_TAIL:]
        except (OSError, ValueError):
            pass

    @property
    def alive(self) -> bool:
        return not self._broken and self.proc.poll() is None

    @property
    def connected(self) -> bool:
        return self.alive and time.monotonic() - self.started >= CONNECTED_AFTER_S

    def write(self, data: bytes) -> None:
        """Hand PCM to ffmpeg; never blocks (a full pipe drops the chunk, a dead one marks it broken)."""
        if self._broken:
            return
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        try:
            # pieces of PIPE_BUF bytes are written whole or not at all: samples never lose alignment
            for start in range(0, len(view), PIECE):
                os.write(fd, view[start:start + PIECE])
        except BlockingIOError:
            self.dropped += 1
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.EBADF, errno.EINVAL):
                self._broken = True
            else:
                raise

    def cause(self) -> str:
        """Why it stopped, one line without the password."""
        self._reader.join(timeout=2)
        with self._lock:
            tail = self._tail.decode("utf-8", "replace")
        return failure_line(tail, self.proc.poll(), self.redacted)

    def close(self) -> None:
        """Stop ffmpeg (EOF first, then a kill) and reap it."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.warning("stream encoder for %s did not end", self.redacted)
        self._reader.join(timeout=2)
        try:
            self.proc.stderr.close()
        except OSError:
            pass


__all__ = ["CONNECTED_AFTER_S", "Encoder", "encoder_argv", "failure_line"]
