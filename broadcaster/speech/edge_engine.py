"""Microsoft Edge's online neural voices through edge-tts: natural Vietnamese, needs the Internet.

The only module that imports ``edge_tts`` (and so aiohttp), and only inside functions: the CLI
starts without them. The service is unofficial and can change or refuse us at any time, which is
why an offline engine always stays after it in the chain.

Every request is bounded by ``timeout`` (``settings.edge_timeout``) as a whole: connecting,
the 403-and-retry edge-tts does when our clock is off (it corrects its skew from the server's
``Date`` header), and receiving the audio. The synthesis runs on an event loop of its own in a
worker thread, so a service that accepts the connection and then says nothing can never hold a
render (or the caller's own event loop) beyond that bound. edge-tts's ``stream_sync`` is not
used: it waits forever when the stream raises.

The MP3 (24 kHz mono, 48 kb/s) is collected in memory and decoded with ``broadcaster.media``.
"""

from __future__ import annotations

import math
import re
import threading
from importlib import metadata
from typing import TYPE_CHECKING

from ..exceptions import InputError, SpeechError
from .base import Speech, decoded_reply

if TYPE_CHECKING:
    from ..config import Settings

EDGE_SAMPLE_RATE = 24000  # audio-24khz-48kbitrate-mono-mp3, the format edge-tts asks for
# The published Vietnamese voices (name: what a station officer reads in the voice list).
EDGE_VOICES = {
    "vi-VN-HoaiMyNeural": "Edge HoaiMy (nữ, trực tuyến)",
    "vi-VN-NamMinhNeural": "Edge NamMinh (nam, trực tuyến)",
}
VOICE_NAME = re.compile(r"^[a-z]{2,}-[A-Z]{2,}-\w+Neural$")
RATE_MIN, RATE_MAX = 0.5, 2.0  # as a multiple of the voice's own speed (SSML prosody -50 % … +100 %)


def _library_version() -> str:
    try:
        return metadata.version("edge-tts")
    except metadata.PackageNotFoundError:  # pragma: no cover - not installed: synthesis says so
        return "unknown"


def prosody_rate(rate: float) -> str:
    """A speed multiple as edge-tts's SSML rate: 1.0 → '+0%', 0.9 → '-10%', 1.25 → '+25%'."""
    percent = int(round((rate - 1.0) * 100))
    return f"{percent:+d}%"


class EdgeEngine:
    """edge-tts adapter implementing the SpeechEngine protocol (plus voices/with_voice)."""

    name = "edge"

    def __init__(self, *, voice: str = "vi-VN-HoaiMyNeural", rate: float = 1.0, timeout: float = 15.0) -> None:
        """Configure the engine; nothing is contacted until ``synthesize``.

        voice is an Edge voice name (``vi-VN-HoaiMyNeural``); rate a multiple of its own speed
        (0.5-2.0); timeout, in seconds, bounds one whole request and must be positive.
        """
        if not timeout or timeout <= 0:
            raise ValueError("Edge TTS timeout must be a positive number of seconds")
        if not isinstance(voice, str) or not VOICE_NAME.match(voice):
            raise ValueError(f"not an Edge voice name: {voice!r} (e.g. vi-VN-HoaiMyNeural)")
        if not RATE_MIN <= float(rate) <= RATE_MAX:
            raise ValueError(f"Edge speaking rate must be {RATE_MIN}-{RATE_MAX}, not {rate}")
        self.voice = voice
        self.rate = float(rate)
        self.timeout = float(timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeEngine:
        """The engine as configured by the station's settings (its voice at its rate)."""
        rate = settings.voice_rates.get(f"{cls.name}:{settings.edge_voice}", 1.0)
        return cls(voice=settings.edge_voice, rate=rate, timeout=settings.edge_timeout)

    def identity(self) -> dict[str, object]:
        """Voice, speed and the edge-tts release; the timeout does not change the sound."""
        return {"engine": self.name, "voice": self.voice, "rate": prosody_rate(self.rate),
                "library": f"edge-tts {_library_version()}"}

    def voices(self) -> dict[str, str]:
        """The voices this engine offers: name → label shown to an editor."""
        voices = dict(EDGE_VOICES)
        voices.setdefault(self.voice, f"Edge {self.voice} (trực tuyến)")
        return voices

    def with_voice(self, voice: str, *, rate: float = 1.0) -> EdgeEngine:
        """The same engine speaking another voice at another speed (InputError for a bad name)."""
        try:
            return EdgeEngine(voice=voice, rate=rate, timeout=self.timeout)
        except ValueError as exc:
            raise InputError(f"Giọng Edge không hợp lệ: {voice} ({exc})", voice=voice) from exc

    def synthesize(self, text: str) -> Speech:
        """Ask the service for the MP3 of ``text`` and decode it; SpeechError on any failure."""
        if not text or not text.strip():
            raise SpeechError("Edge TTS: không có chữ để đọc / no text to speak", engine=self.name)
        return decoded_reply(self._fetch(text), sample_rate=EDGE_SAMPLE_RATE, service="Edge TTS", engine=self.name)

    # -- the request, on an event loop of its own
    def _fetch(self, text: str) -> bytes:
        box: dict[str, object] = {}
        thread = threading.Thread(target=self._run, args=(text, box), name="edge-tts", daemon=True)
        thread.start()
        # the worker's own wait_for ends it at `timeout`; the margin covers closing the socket
        thread.join(self.timeout + 2.0)
        if thread.is_alive() or "timeout" in box:
            raise SpeechError(f"Edge TTS không trả lời sau {self.timeout:g} giây", engine=self.name)
        if "error" in box:
            raise SpeechError(f"lỗi gọi Edge TTS: {box['error']}", engine=self.name)
        data = box.get("audio", b"")
        if not data:
            raise SpeechError("Edge TTS trả về dữ liệu rỗng / empty audio", engine=self.name)
        return data  # type: ignore[return-value]

    def _run(self, text: str, box: dict[str, object]) -> None:
        import asyncio

        try:
            box["audio"] = asyncio.run(asyncio.wait_for(self._collect(text), self.timeout))
        except asyncio.TimeoutError:
            box["timeout"] = True
        except Exception as exc:  # anything the library or aiohttp raises is this engine's failure
            box["error"] = _describe(exc)

    async def _collect(self, text: str) -> bytes:
        import edge_tts

        seconds = max(1, math.ceil(self.timeout))
        communicate = edge_tts.Communicate(
            text, self.voice, rate=prosody_rate(self.rate), connect_timeout=seconds, receive_timeout=seconds,
        )
        audio = bytearray()
        async for chunk in communicate.stream():
            if chunk["type"] == "audio":
                audio += chunk["data"]
        return bytes(audio)

    def __repr__(self) -> str:
        return f"EdgeEngine(voice={self.voice!r}, rate={self.rate}, timeout={self.timeout})"


def _describe(exc: Exception) -> str:
    """One line naming what went wrong: the HTTP status of a refused connection, no audio, …"""
    status = getattr(exc, "status", None)
    name = type(exc).__name__
    if name == "NoAudioReceived":
        return "dịch vụ không gửi âm thanh (NoAudioReceived)"
    if isinstance(status, int) and status:
        return f"dịch vụ từ chối kết nối (HTTP {status}, {name})"
    return f"{name}: {exc}" if str(exc) else name
