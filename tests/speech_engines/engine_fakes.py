"""Helpers for the speech-engine tests: a fake engine, a real MP3 maker and Google's wire format.

The fake implements the SpeechEngine protocol and runs the same contract tests as the real
engines (test_speech_engines_contract.py), so it cannot drift from them. The gTTS helpers
reproduce the batchexecute framing that gtts/tts.py parses, so gTTS runs its own code end
to end with only the HTTP exchange intercepted (by ``responses``).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np

from broadcaster import media
from broadcaster.exceptions import SpeechError
from broadcaster.speech.base import Speech

GTTS_TLD = "com.vn"  # the station's default Google host


def gtts_url_re(tld: str = GTTS_TLD) -> re.Pattern[str]:
    """The batchexecute endpoint gTTS posts to for a Google host suffix."""
    return re.compile(rf"https://translate\.google\.{re.escape(tld)}/_/TranslateWebserverUi/data/batchexecute")

MP3_RATE = 24000  # what Google serves
MP3_SECONDS = 1.0
SAMPLE_SENTENCE = "Ủy ban nhân dân xã Dân Tiến thông báo lịch tiêm phòng năm 2026."


class FakeEngine:
    """A deterministic engine: a tone whose length grows with the word count.

    Each piece has abrupt tone edges wrapped in silence, the worst case for clicks at a
    joint. ``fail`` makes every call raise SpeechError; ``delay`` makes it slow.
    """

    def __init__(
        self,
        name: str = "fake",
        *,
        sample_rate: int = 16000,
        rate: int = 100,
        fail: str | None = None,
        delay: float = 0.0,
        seconds_per_word: float = 0.1,
    ) -> None:
        self.name = name
        self.sample_rate = sample_rate
        self.rate = rate
        self.fail = fail
        self.delay = delay
        self.seconds_per_word = seconds_per_word
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def identity(self) -> dict[str, object]:
        """Name and the one sound setting the fake has."""
        return {"engine": self.name, "rate": self.rate}

    def synthesize(self, text: str) -> Speech:
        """A tone of 0.1 s per word between 50 ms of silence; SpeechError when told to fail."""
        with self._lock:
            self.calls.append(text)
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise SpeechError(self.fail)
        words = text.split()
        if not words:
            raise SpeechError("fake: nothing to say")
        n = int(len(words) * self.seconds_per_word * self.sample_rate * 100 / self.rate)
        t = np.arange(n) / self.sample_rate
        tone = 0.8 * np.cos(2 * np.pi * 300 * t)  # starts at full amplitude: a click if not faded
        silence = np.zeros(int(0.05 * self.sample_rate))
        samples = np.concatenate([silence, tone, silence]).astype(np.float32)
        return Speech(samples=samples, sample_rate=self.sample_rate)


def make_mp3(path: Path, *, seconds: float = MP3_SECONDS, sample_rate: int = MP3_RATE) -> Path:
    """Encode a real MP3 (mono, 32 kb/s, like Google's) of a swelling 440 Hz tone with ffmpeg."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    signal = (0.5 * np.sin(2 * np.pi * 440 * t) * (0.2 + 0.8 * np.sin(np.pi * t / seconds))).astype("<f4")
    cmd = [
        media.ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error",
        "-f", "f32le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
        "-c:a", "libmp3lame", "-b:a", "32k", str(path),
    ]
    subprocess.run(cmd, input=signal.tobytes(), check=True, capture_output=True, timeout=60)
    return path


def batchexecute_body(mp3: bytes) -> str:
    """A batchexecute reply as Google sends it: the XSSI guard, then length-prefixed JSON chunks.

    The audio sits base64-encoded inside a JSON string inside the JSON array, which is why
    gTTS finds it with the regex ``jQ1olc","\\[\\\\"(.*)\\\\"]``.
    """
    inner = json.dumps([base64.b64encode(mp3).decode("ascii")])
    envelope = json.dumps(
        [
            ["wrb.fr", "jQ1olc", inner, None, None, None, "generic"],
            ["di", 57],
            ["af.httprm", 56, "-4417062187893472392", 27],
        ],
        separators=(",", ":"),
    )
    trailer = json.dumps([["e", 4, None, None, len(envelope) + 42]], separators=(",", ":"))
    return f")]}}'\n\n{len(envelope) + 1}\n{envelope}\n{len(trailer) + 1}\n{trailer}\n"


def sent_text(body: str | bytes) -> str:
    """The text a gTTS request asked to speak (decoded from its f.req form field)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    rpc = json.loads(urllib.parse.parse_qs(body)["f.req"][0])
    method, payload = rpc[0][0][0], rpc[0][0][1]
    assert method == "jQ1olc"
    text, lang, _speed, _ = json.loads(payload)
    assert lang == "vi"
    return text


class GoogleStub:
    """Answers every gTTS POST with a real MP3 and remembers what was asked and how."""

    def __init__(self, mp3: bytes) -> None:
        self.mp3 = mp3
        self.texts: list[str] = []
        self.timeouts: list[object] = []

    def __call__(self, request):
        """responses callback: (status, headers, body)."""
        self.texts.append(sent_text(request.body))
        self.timeouts.append(request.req_kwargs.get("timeout"))
        return 200, {"Content-Type": "application/json; charset=utf-8"}, batchexecute_body(self.mp3)

    def install(self, mock, tld: str = GTTS_TLD) -> GoogleStub:
        """Register on a responses.RequestsMock for one Google host."""
        mock.add_callback(mock.POST, gtts_url_re(tld), callback=self)
        return self


def speech_words(text: str) -> list[str]:
    """Words with their punctuation stripped (what must survive splitting and gTTS's cleaning)."""
    return [w for w in (re.sub(r"[^\w]", "", token) for token in text.split()) if w]
