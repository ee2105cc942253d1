"""Google Translate's text-to-speech through gTTS: natural Vietnamese, needs the Internet.

The only module that imports ``gtts`` (and so requests), and only in ``synthesize``: a station
whose engine order leaves gTTS out never loads them (issue 13, start-up). The request always
carries a timeout (``settings.gtts_timeout``): without one, a half-open connection hangs forever
and the fallback to espeak-ng never happens. The MP3 is collected in memory and decoded with
``broadcaster.media.decode``, because ``gTTS.save()`` leaves an empty file behind when
the request fails.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ..exceptions import InputError, SpeechError
from .base import Speech, decoded_reply

if TYPE_CHECKING:
    from gtts import gTTSError

    from ..config import Settings

# Google serves 24 kHz mono MP3; decoding at the native rate avoids a pointless resample here
# (the synthesizer resamples the joined result once to the station's rate).
GTTS_SAMPLE_RATE = 24000


class GttsEngine:
    """gTTS adapter implementing the SpeechEngine protocol."""

    name = "gtts"

    def __init__(self, *, lang: str = "vi", tld: str = "com.vn", slow: bool = False, timeout: float = 10.0) -> None:
        """Configure the engine; nothing is contacted until ``synthesize``.

        timeout is in seconds and must be positive: an unlimited wait is never allowed.
        """
        if not timeout or timeout <= 0:
            raise ValueError("gTTS timeout must be a positive number of seconds")
        self.lang = lang
        self.tld = tld
        self.slow = slow
        self.timeout = float(timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> GttsEngine:
        """The engine as configured by the station's settings."""
        return cls(
            lang=settings.gtts_lang, tld=settings.gtts_tld, slow=settings.gtts_slow, timeout=settings.gtts_timeout
        )

    def voices(self) -> dict[str, str]:
        """Google's one voice for the language: name → label shown to an editor."""
        return {self.lang: f"Google {self.lang} (nữ, trực tuyến)"}

    def with_voice(self, voice: str, *, rate: float = 1.0) -> GttsEngine:
        """The same engine (Google has one voice per language; its speed cannot be set)."""
        if voice != self.lang:
            raise InputError(f"gTTS chỉ có giọng '{self.lang}', không có '{voice}'", voice=voice)
        return self

    def identity(self) -> dict[str, object]:
        """Language, Google host and reading speed; the timeout does not change the sound."""
        return {"engine": self.name, "lang": self.lang, "tld": self.tld, "slow": self.slow}

    def synthesize(self, text: str) -> Speech:
        """Ask Google for the MP3 of ``text`` and decode it; SpeechError on any failure."""
        if not text or not text.strip():
            raise SpeechError("không có chữ để đọc / no text to speak", engine=self.name)
        from gtts import gTTS, gTTSError

        buffer = io.BytesIO()
        try:
            tts = gTTS(text, lang=self.lang, tld=self.tld, slow=self.slow, timeout=self.timeout)
            tts.write_to_fp(buffer)
        except gTTSError as exc:
            raise SpeechError(f"lỗi gọi Google TTS: {_describe(exc)}", engine=self.name) from exc
        except (AssertionError, ValueError) as exc:
            # gTTS asserts when nothing is left to speak after its own cleaning, and raises
            # ValueError for a language it does not know: both are our input, not the network.
            raise SpeechError(f"Google TTS không nhận nội dung này: {exc}", engine=self.name) from exc
        except Exception as exc:  # requests or urllib3 errors that escape gTTS, anything else
            raise SpeechError(f"lỗi gọi Google TTS: {type(exc).__name__}: {exc}", engine=self.name) from exc
        data = buffer.getvalue()
        if not data:
            raise SpeechError("Google TTS trả về dữ liệu rỗng / empty audio", engine=self.name)
        return decoded_reply(data, sample_rate=GTTS_SAMPLE_RATE, service="Google TTS", engine=self.name)

    def __repr__(self) -> str:
        return f"GttsEngine(lang={self.lang!r}, tld={self.tld!r}, slow={self.slow}, timeout={self.timeout})"


def _describe(exc: gTTSError) -> str:
    """gTTS's message plus the underlying requests error class (timeout vs refused), which it hides."""
    message = str(exc) or "gTTSError"
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        message += f" ({type(cause).__name__})"
    return message
