"""Live sources for the player: a network stream decoded by ffmpeg, and the microphone.

Both produce audio in real time, so both are `live` Sources (player.Source): read() hands
over what has arrived and returns None while nothing has, so the player's feeding thread
never blocks on the network or the card. Each keeps only a few seconds in memory.

* StreamSource: `ffmpeg -i URL -f s16le -` in a subprocess (the binary imageio-ffmpeg
  ships, so nothing else needs installing); a reader thread moves its output into a small
  buffer and stops reading when the buffer is full, so a fast source (a file served over
  HTTP) is held back by the pipe instead of filling memory.
* MicSource: sounddevice.InputStream (opened through devices.py, the only sounddevice
  importer); its callback only copies blocks into a queue; read() takes them and writes
  what it hands over to the archive WAV the caller asked for. Its stream is opened and
  closed in the caller's thread, not the player's owner thread: PortAudio calls from two
  threads at once are possible while the microphone opens (known limitation).
"""

from __future__ import annotations

import logging
import queue
import subprocess
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import AudioError, PlayoutError

log = logging.getLogger(__name__)

STREAM_BUFFER_S = 2.0  # decoded audio held ahead of the player; the pipe holds the rest back
READ_BYTES = 16384
MIC_QUEUE_S = 5.0  # the most microphone audio kept when the player falls behind
# decode what arrives at once instead of probing and buffering the input first (receivers)
LOW_LATENCY_INPUT = ("-fflags", "nobuffer", "-probesize", "32768", "-analyzeduration", "0")


def ffmpeg_exe() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg (AudioError when it is missing)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # ImportError, or RuntimeError when no binary is found
        raise AudioError(f"Không tìm thấy ffmpeg để giải mã luồng: {exc}") from exc


class StreamSource:
    """A stream URL (or a file path) decoded to 16-bit PCM by an ffmpeg subprocess (a live Source).

    read() raises AudioError when ffmpeg fails (with the last lines it printed) or when no
    audio has arrived for `stall_s` seconds; it returns an empty array when the stream ends.
    """

    live = True
    check_silence = True

    def __init__(self, url: str, *, sample_rate: int, channels: int = 1, stall_s: float = 10.0,
                 low_latency: bool = False) -> None:
        """low_latency: ffmpeg starts decoding at once (no input buffering, a small probe), for a
        receiver that should be heard as soon as the station speaks (issue 14)."""
        self.label = url
        self.url = url
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.stall_s = float(stall_s)
        self._frame_bytes = 2 * self.channels
        self._limit = int(STREAM_BUFFER_S * self.sample_rate) * self._frame_bytes
        self._buffer = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._closed = False
        self._last_data = time.monotonic()
        self._stderr = tempfile.TemporaryFile()
        command = [
            ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
            # a network read that hangs this long is an error, not a wait forever (µs)
            "-rw_timeout", str(int(self.stall_s * 1_000_000)),
            *(LOW_LATENCY_INPUT if low_latency else ()),
            "-i", url, "-vn", "-ac", str(self.channels), "-ar", str(self.sample_rate),
            "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
        ]
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr
            )
        except OSError as exc:
            self._stderr.close()
            raise AudioError(f"Không chạy được ffmpeg: {exc}") from exc
        self._reader = threading.Thread(target=self._pump, name="stream-reader", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        """Move ffmpeg's output into the buffer, waiting while the buffer is full (back-pressure)."""
        stdout = self._process.stdout
        assert stdout is not None
        try:
            while True:
                with self._cond:
                    while len(self._buffer) >= self._limit and not self._closed:
                        self._cond.wait(0.5)
                    if self._closed:
                        return
                chunk = stdout.read1(READ_BYTES)
                if not chunk:
                    return
                with self._cond:
                    self._buffer += chunk
                    self._last_data = time.monotonic()
        except (OSError, ValueError):  # the pipe closed under us by close()
            return
        finally:
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    def _error_text(self) -> str:
        try:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError):
            lines = []
        return " / ".join(lines[-3:]) or f"ffmpeg thoát với mã {self._process.returncode}"

    @property
    def buffered_s(self) -> float:
        """Decoded audio waiting to be read, in seconds (a receiver reports it)."""
        with self._cond:
            return len(self._buffer) / self._frame_bytes / self.sample_rate

    def read(self, frames: int) -> np.ndarray | None:
        """Up to `frames` frames (n, channels) int16; None while nothing is buffered; empty at the end."""
        with self._cond:
            take = min(len(self._buffer), frames * self._frame_bytes)
            take -= take % self._frame_bytes
            if take:
                raw = bytes(self._buffer[:take])
                del self._buffer[:take]
                self._cond.notify_all()
                return np.frombuffer(raw, dtype="<i2").reshape(-1, self.channels)
            eof, idle = self._eof, time.monotonic() - self._last_data
        if not eof:
            if idle > self.stall_s:
                raise AudioError(f"Luồng {self.url} không gửi âm thanh trong {self.stall_s:g} giây", url=self.url)
            return None
        try:
            code = self._process.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        if code != 0:
            raise AudioError(f"Không phát được luồng {self.url}: {self._error_text()}", url=self.url)
        return np.zeros((0, self.channels), dtype=np.int16)

    def close(self) -> None:
        """Stop ffmpeg and the reader thread. Safe to call twice."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self._process.poll() is None:
            # SIGKILL, not SIGTERM: a decoder has nothing to save, and ffmpeg blocked on a
            # full pipe would sit out a SIGTERM until its write returns
            self._process.kill()
            self._process.wait(5)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._reader.join(3)
        self._stderr.close()


class MicSource:
    """The microphone (default or configured input device) as a live Source, archived as a WAV.

    Feeds the player until stop() is called; everything handed to the player is also
    written to `archive` (16-bit PCM mono at the output rate), completed by close().
    Raises PlayoutError at construction when the input device cannot be opened.
    """

    live = True
    check_silence = False  # an officer pausing to think is not a fault
    label = "micro"

    def __init__(
        self,
        *,
        archive: Path,
        settings: Any = None,
        device: str | int | None = None,
        sample_rate: int | None = None,
        block_frames: int | None = None,
        stream_factory: Any = None,
    ) -> None:
        """settings supplies input_device, sample_rate and playout_block_frames when given;
        the explicit arguments win. stream_factory: devices.open_input_stream (tests may fake it)."""
        if settings is not None:
            device = device if device is not None else getattr(settings, "input_device", None)
            sample_rate = sample_rate or settings.sample_rate
            block_frames = block_frames or settings.playout_block_frames
        self.sample_rate = int(sample_rate or 48000)
        self.block_frames = int(block_frames or 1024)
        self.channels = 1
        self.archive = Path(archive)
        self._blocks: queue.Queue[np.ndarray] = queue.Queue()
        self._queued = 0
        self._max_queued = int(MIC_QUEUE_S * self.sample_rate)
        self._dropped = 0
        self._stopped = threading.Event()
        self._closed = False
        self.error: str | None = None
        self.frames_archived = 0
        self.archive_error: str | None = None  # why the archive stopped (the broadcast does not)
        self.archive.parent.mkdir(parents=True, exist_ok=True)
        self._part = self.archive.with_name(self.archive.name + ".part")
        self._wav = wave.open(str(self._part), "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(self.sample_rate)
        if stream_factory is None:
            from .devices import open_input_stream

            stream_factory = open_input_stream
        try:
            self._stream = stream_factory(
                device=device,
                samplerate=self.sample_rate,
                blocksize=self.block_frames,
                dtype="int16",
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._stream.start()
        except BaseException:
            self._wav.close()
            self._part.unlink(missing_ok=True)
            raise

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's input callback: copy the block (mixed to mono) and nothing else."""
        if self._stopped.is_set():
            return
        block = indata if indata.shape[1] == 1 else (indata.astype(np.int32).mean(axis=1, keepdims=True))
        block = np.asarray(block, dtype=np.int16).copy()
        if self._queued + frames > self._max_queued:
            self._dropped += frames  # the player stopped reading: keep memory bounded
            return
        self._queued += frames
        self._blocks.put_nowait(block)

    def _finished(self) -> None:
        if not self._stopped.is_set() and not self._closed:
            self.error = "Micro bị ngắt (thiết bị bị rút ra hoặc lỗi)"

    def stop(self) -> None:
        """End the live input: what is already captured still airs, then the item ends."""
        self._stopped.set()

    def read(self, frames: int) -> np.ndarray | None:
        """Captured audio, up to `frames` frames (n, 1) int16; None while none has arrived; empty after stop()."""
        pieces: list[np.ndarray] = []
        got = 0
        while got < frames:
            try:
                block = self._blocks.get_nowait()
            except queue.Empty:
                break
            self._queued -= len(block)
            pieces.append(block)
            got += len(block)
        if pieces:
            data = np.concatenate(pieces)
            if self.archive_error is None:
                try:
                    self._wav.writeframes(data.astype("<i2").tobytes())
                    self.frames_archived += len(data)
                except OSError as exc:  # a full disk ends the archive, never the live broadcast
                    self.archive_error = str(exc)
                    log.error("microphone archive %s stopped: %s; the live broadcast goes on", self.archive, exc)
            return data
        if self.error is not None:
            raise AudioError(self.error)
        if self._stopped.is_set():
            return np.zeros((0, 1), dtype=np.int16)
        return None

    def close(self) -> None:
        """Stop the input stream and complete the archive WAV. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._stopped.set()
        for call in (self._stream.abort, self._stream.close):
            try:
                call()
            except (PlayoutError, Exception) as exc:  # a card already gone: the archive still matters
                log.info("closing the microphone: %s", exc)
        try:
            self._wav.close()
        except OSError as exc:  # the header could not be completed (a full disk)
            self.archive_error = self.archive_error or str(exc)
        if self.frames_archived and self.archive_error is None:
            self._part.replace(self.archive)
        else:
            self._part.unlink(missing_ok=True)  # no half-written archive left behind
        if self._dropped:
            log.warning("microphone: %d frames dropped (the player fell behind)", self._dropped)


__all__ = ["MicSource", "StreamSource", "ffmpeg_exe"]
