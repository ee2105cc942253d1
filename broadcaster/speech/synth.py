"""Text → one WAV in the render cache: normalize, split, synthesize with a fallback chain, join.

``Synthesizer.speak`` is what the service calls. The steps, in order:

1. The text goes through the normalizer exactly once; what comes out (the *spoken text*)
   is what engines read and what the cache key is made of.
2. The spoken text is split into pieces no longer than ``settings.speech_chunk_chars``:
   at sentence ends (``. ! ? ; …`` before a space, and every line break), then at commas
   inside a sentence that is still too long, then between words. A word is never cut, so
   a single word longer than the limit (a pasted URL) becomes a piece of its own.
   Each sentence is its own piece even when several would fit, so the pause between
   sentences is always ``settings.sentence_gap_ms`` whichever engine speaks.
3. Engines are tried in ``settings.engine_order``. For each engine the cache is looked up
   first; the first engine whose render is cached *or* that synthesizes every piece wins.
   So if only the espeak-ng render is cached and gTTS comes first, gTTS is still tried
   (the better voice is worth one more attempt) and the cached espeak-ng render is used
   the moment gTTS fails: no engine is ever asked twice for the same render.
4. Pieces are trimmed of leading/trailing silence, faded in/out over ``settings.fade_ms``
   (so a joint can never click) and joined with ``settings.sentence_gap_ms`` of silence,
   and written as 16-bit mono PCM WAV at the engine's own rate (the item render resamples
   once, at its end, to ``settings.sample_rate``).

Cache files are ``<cache_dir>/<sha256>.wav`` plus a ``.json`` sidecar (engine, identity,
spoken text, creation time). Both are written to a unique temporary file, flushed to disk
and renamed, the sidecar first, so a crash or power cut never leaves a half-written WAV
that a later run would take for a finished render.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import wave
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..disk import write_atomic
from ..exceptions import BroadcasterError, InputError, SpeechError
from .base import SpeechEngine, SpeechResult
from .engines import build_engines
from .voices import Voice, available_voices, engine_for_voice, split_voice_id, voice_id

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

# Bump when the rendering code changes what a cached file sounds like, to invalidate old renders.
# 2: the speech is kept at the engine's rate, not resampled to settings.sample_rate (issue 13).
CACHE_FORMAT = 2
# Below this level (-50 dBFS) a piece's edges count as silence and are trimmed.
TRIM_LEVEL = 10 ** (-50 / 20)

_SENTENCE_END = re.compile(r"[.!?;…]+[\"'”’»)\]]*$")
_CLAUSE_END = re.compile(r",[\"'”’»)\]]*$")
_LOCK_STRIPES = 64


# --------------------------------------------------------------------------- splitting
def _speakable(text: str) -> bool:
    """True when the text has at least one letter or digit (something to pronounce)."""
    return any(ch.isalnum() for ch in text)


def _pack(words: Sequence[str], max_chars: int) -> list[list[str]]:
    """Greedily group words into runs whose space-joined length stays within max_chars."""
    runs: list[list[str]] = []
    current: list[str] = []
    length = 0
    for word in words:
        extra = len(word) + (1 if current else 0)
        if current and length + extra > max_chars:
            runs.append(current)
            current, length = [], 0
            extra = len(word)
        current.append(word)
        length += extra
    if current:
        runs.append(current)
    return runs


def _split_after(words: Sequence[str], boundary: re.Pattern[str]) -> list[list[str]]:
    """Cut a word list after every word that matches ``boundary`` (the punctuation stays with it)."""
    groups: list[list[str]] = []
    current: list[str] = []
    for word in words:
        current.append(word)
        if boundary.search(word):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def split_text(text: str, max_chars: int) -> list[str]:
    """Split spoken text into pieces of at most ``max_chars`` characters, at natural boundaries.

    Sentence ends and line breaks always split; a sentence longer than max_chars is split
    at commas, and clauses are packed back together greedily up to the limit; a clause
    still too long is split between words. Whitespace runs become single spaces (engines
    do not hear the difference) and pieces with nothing to pronounce are dropped.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    pieces: list[str] = []
    for line in text.splitlines():
        for sentence in _split_after(line.split(), _SENTENCE_END):
            if len(" ".join(sentence)) <= max_chars:
                runs = [sentence]
            else:
                clauses: list[list[str]] = []
                for clause in _split_after(sentence, _CLAUSE_END):
                    clauses.extend(_pack(clause, max_chars) if len(" ".join(clause)) > max_chars else [clause])
                runs = _pack_clauses(clauses, max_chars)
            pieces.extend(" ".join(run) for run in runs)
    return [piece for piece in pieces if _speakable(piece)]


def _pack_clauses(clauses: list[list[str]], max_chars: int) -> list[list[str]]:
    """Join consecutive clauses while they fit, so a long sentence is not read comma by comma."""
    runs: list[list[str]] = []
    for clause in clauses:
        if runs and len(" ".join(runs[-1] + clause)) <= max_chars:
            runs[-1] = runs[-1] + clause
        else:
            runs.append(list(clause))
    return runs


# ----------------------------------------------------------------------------- joining
def trim_silence(samples: np.ndarray, sample_rate: int, *, pad_ms: float, level: float = TRIM_LEVEL) -> np.ndarray:
    """Cut leading/trailing silence, keeping ``pad_ms`` before the first and after the last sound.

    The first and last sounds are looked for from each end a block at a time: an engine's
    silence at the edges is a few milliseconds, so the piece's middle is never scanned."""
    first = _first_loud(samples, level)
    if first < 0:
        return samples[:0]
    last = len(samples) - 1 - _first_loud(samples[::-1], level)
    pad = int(round(sample_rate * pad_ms / 1000))
    start = max(0, first - pad)
    end = min(len(samples), last + 1 + pad)
    return samples[start:end]


def _first_loud(samples: np.ndarray, level: float, block: int = 4096) -> int:
    """Index of the first sample louder than ``level`` (-1: none)."""
    for start in range(0, len(samples), block):
        hits = np.flatnonzero(np.abs(samples[start : start + block]) > level)
        if hits.size:
            return start + int(hits[0])
    return -1


def fade_edges(samples: np.ndarray, sample_rate: int, *, fade_ms: float) -> np.ndarray:
    """Raised-cosine fade in and out, so the piece starts and ends at exactly zero."""
    out = np.array(samples, dtype=np.float32, copy=True)
    n = min(int(round(sample_rate * fade_ms / 1000)), len(out) // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float64))).astype(np.float32)
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    if len(out):
        out[0] = 0.0  # the ramp starts at 0 already; this keeps it so for 1-sample fades too
        out[-1] = 0.0
    return out


def join_pieces(pieces: Sequence[np.ndarray], sample_rate: int, *, gap_ms: float, fade_ms: float) -> np.ndarray:
    """Trim, fade and concatenate pieces with ``gap_ms`` of silence between them.

    Raises SpeechError when a piece holds no sound at all (the engine spoke nothing).
    """
    gap = np.zeros(int(round(sample_rate * gap_ms / 1000)), dtype=np.float32)
    parts: list[np.ndarray] = []
    for index, piece in enumerate(pieces):
        # No padding: the fade must cover the first and last milliseconds of actual sound,
        # or an engine whose output starts mid-waveform would still click at the joint.
        trimmed = trim_silence(np.asarray(piece, dtype=np.float32), sample_rate, pad_ms=0)
        if trimmed.size == 0:
            raise SpeechError(f"đoạn {index + 1} chỉ có im lặng / piece {index + 1} is silent")
        if parts:
            parts.append(gap)
        parts.append(fade_edges(trimmed, sample_rate, fade_ms=fade_ms))
    if not parts:
        raise SpeechError("không có âm thanh / no audio")
    return np.concatenate(parts)


# ------------------------------------------------------------------------------- files
def _is_complete_wav(path: Path) -> bool:
    """A cache entry counts only if it is a readable, non-empty 16-bit mono WAV (at the engine's rate)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return (
                wav.getnframes() > 0
                and wav.getsampwidth() == 2
                and wav.getnchannels() == 1
                and wav.getframerate() > 0
                and path.stat().st_size >= 44 + 2 * wav.getnframes()
            )
    except (OSError, EOFError, wave.Error):
        return False


def _default_normalizer(text: str) -> str:
    # Imported on first use: the normalizer is a sibling module with its own data to load.
    from .normalize import normalize

    return normalize(text)


# ------------------------------------------------------------------------- synthesizer
class Synthesizer:
    """Normalization, the render cache and the engine fallback chain behind one call.

    Thread-safe: renders of the same cache entry are serialized (one synthesis, the other
    caller gets the cached file); different texts proceed in parallel.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        engines: dict[str, SpeechEngine] | None = None,
        normalizer: Callable[[str], str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        """Use the given engines (default: the real ones from settings), normalizer (default:
        ``broadcaster.speech.normalize.normalize`` with the built-in lexicon) and cache
        directory (default: ``settings.cache_dir / "speech"``)."""
        self.settings = settings
        self.engines: dict[str, SpeechEngine] = dict(engines) if engines is not None else build_engines(settings)
        self._normalize = normalizer or _default_normalizer
        self.cache_dir = Path(cache_dir) if cache_dir is not None else Path(settings.cache_dir) / "speech"
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    # -- keys and paths
    def cache_key(self, spoken_text: str, engine: SpeechEngine) -> str:
        """sha256 of everything that decides the sound of a render of this text by this engine."""
        s = self.settings
        payload = {
            "format": CACHE_FORMAT,
            "text": spoken_text,
            "engine": engine.name,
            "identity": engine.identity(),
            "chunk_chars": s.speech_chunk_chars,
            "gap_ms": s.sentence_gap_ms,
            "fade_ms": s.fade_ms,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def cache_path(self, spoken_text: str, engine: SpeechEngine) -> Path:
        """Where the WAV for this text and engine lives (whether or not it exists yet)."""
        return self.cache_dir / f"{self.cache_key(spoken_text, engine)}.wav"

    def split(self, spoken_text: str) -> list[str]:
        """The pieces an engine will be asked to speak, per ``settings.speech_chunk_chars``."""
        return split_text(spoken_text, self.settings.speech_chunk_chars)

    # -- the one public operation
    def speak(
        self, text: str, *, engine: str | None = None, order: list[str] | None = None, voice: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> SpeechResult:
        """Speech for ``text`` as a cached WAV, from the first engine that works.

        engine= forces one engine (no fallback); order= overrides ``settings.engine_order``.
        voice= ("edge:vi-VN-NamMinhNeural"; default ``settings.default_voice``) is tried first,
        then the order without that voice's engine; with engine= it is used only when it is
        that engine's. Engines in the order that are not built here are skipped.
        Raises InputError when nothing is left to say after normalization (or engine= names
        no configured engine) and SpeechError, listing every engine's reason, when all fail.
        progress= is called with the fraction done (0..1, never decreasing; 1.0 at the end,
        at once for a cache hit).
        """
        spoken = self._normalize(text or "")
        if not isinstance(spoken, str) or not _speakable(spoken):
            raise InputError("Nội dung bản tin trống, không có gì để đọc / nothing to speak")
        pieces = self.split(spoken)
        failures: list[str] = []
        report = _Monotonic(progress)
        for name, chosen in self._chain(engine=engine, order=order, voice=voice, failures=failures):
            try:
                key = self.cache_key(spoken, chosen)
            except Exception as exc:  # a broken identity() is that engine's failure, not the station's
                failures.append(self._failure(name, exc))
                continue
            path = self.cache_dir / f"{key}.wav"
            with self._locks[int(key[:8], 16) % _LOCK_STRIPES]:
                if self._is_cached(path, key):
                    report(1.0)
                    return SpeechResult(
                        path=path, engine=name, spoken_text=spoken, cached=True, failures=tuple(failures),
                        voice=voice_id(chosen),
                    )
                try:
                    rendered = self._render_to(path, chosen, spoken, key, pieces, report)
                except _DiskTrouble as trouble:
                    # Not an engine's fault (a full or failing disk): another engine would fail the same way.
                    message = f"Không ghi được tệp giọng đọc vào {self.cache_dir}: {trouble.cause}"
                    raise SpeechError(message, path=str(path)) from trouble.cause
                except Exception as exc:  # any engine bug must fall back, not take the bulletin off air
                    failures.append(self._failure(name, getattr(exc, "engine_cause", None) or exc))
                    continue
            report(1.0)
            return SpeechResult(path=path, engine=name, spoken_text=spoken, cached=False, failures=tuple(failures),
                                voice=voice_id(chosen), probe_sample=getattr(rendered, "probe_sample", None))
        detail = "; ".join(failures) or "không có bộ đọc nào trong danh sách / no engine in the order"
        raise SpeechError(f"Không tạo được giọng đọc — {detail}", failures=tuple(failures))

    def voices(self) -> list[Voice]:
        """Every voice offered by the engines of ``settings.engine_order`` that are built here."""
        return available_voices(self.engines, list(self.settings.engine_order))

    def speech_loudness(self, path: Path) -> float | None:
        """The integrated loudness of a cached render, from its sidecar (None when not recorded)."""
        try:
            value = json.loads(path.with_suffix(".json").read_text(encoding="utf-8")).get("integrated_lufs")
        except (OSError, ValueError, AttributeError):
            return None
        return float(value) if isinstance(value, (int, float)) else None

    def _is_cached(self, path: Path, key: str) -> bool:
        """A finished render: answered from the sidecar and the file's size, without opening the WAV;
        a render cached before the sidecar recorded its frames is checked from its WAV header."""
        try:
            size = path.stat().st_size
        except OSError:
            return False
        try:
            sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            frames = sidecar["frames"]
            rate = sidecar["sample_rate"]
            ok = sidecar["key"] == key and isinstance(rate, int) and rate > 0
        except (OSError, ValueError, KeyError, TypeError):
            return _is_complete_wav(path)
        return bool(ok) and isinstance(frames, int) and frames > 0 and size == 44 + 2 * frames

    # -- internals
    def _chain(
        self, *, engine: str | None, order: list[str] | None, voice: str | None, failures: list[str],
    ) -> list[tuple[str, SpeechEngine]]:
        """(name, engine) to try in turn: the voice's engine set to it first, then the order."""
        voice = voice or self.settings.default_voice
        if engine is not None:
            if engine not in self.engines:
                known = ", ".join(self.engines) or "không có"
                raise InputError(f"Không có bộ đọc '{engine}' (có: {known}) / unknown engine", engine=engine)
            names = [engine]
            if voice and split_voice_id(voice)[0] != engine:
                voice = None  # a forced engine speaks its own voice
        else:
            names = list(order if order is not None else self.settings.engine_order)
        chain: list[tuple[str, SpeechEngine]] = []
        first = None
        if voice:
            first = split_voice_id(voice)[0]
            try:
                chain.append((first, engine_for_voice(self.engines, voice, rate=self.settings.voice_rates.get(voice))))
            except InputError as exc:  # not built here (or no such voice): the order still speaks
                failures.append(f"{first}: {exc.message}")
        for name in names:
            if name == first:
                continue
            chosen = self.engines.get(name)
            if chosen is None:  # a known engine not installed here (piper without a voice): skipped
                failures.append(f"{name}: chưa được cấu hình / not configured")
                continue
            chain.append((name, chosen))
        return chain

    @staticmethod
    def _failure(name: str, exc: Exception) -> str:
        """'engine: reason' for SpeechResult.failures; unexpected errors are logged with a traceback."""
        expected = isinstance(exc, BroadcasterError)
        reason = exc.message if expected else f"{type(exc).__name__}: {exc}"
        log.warning("speech engine %s failed: %s", name, reason, exc_info=not expected)
        return f"{name}: {reason}"

    def _render_to(
        self, path: Path, engine: SpeechEngine, spoken: str, key: str, pieces: list[str], report,
    ):
        """Every piece through one engine, streamed into the cache: the WAV is written into a
        ``.part`` as it is made, the sidecar is written, then the WAV is renamed into place (so a
        WAV always has its sidecar, and a crash leaves no WAV a later run would take as finished).
        Returns what the pipeline wrote (pipeline.Rendered)."""
        from ..disk import part_file
        from .pipeline import EngineTrouble, WriteTrouble, render_pieces

        s = self.settings
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _DiskTrouble(exc) from exc
        started = time.perf_counter()
        try:
            with part_file(path) as tmp:
                rendered = render_pieces(
                    engine, pieces, tmp, gap_ms=s.sentence_gap_ms,
                    fade_ms=s.fade_ms, prepare=self._prepare, progress=report,
                )
                self._store_sidecar(path, engine, spoken, key, rendered, seconds=time.perf_counter() - started)
            return rendered
        except EngineTrouble:
            raise
        except WriteTrouble as trouble:
            path.with_suffix(".json").unlink(missing_ok=True)
            raise _DiskTrouble(trouble.cause) from trouble.cause
        except OSError as exc:  # the fsync or the rename of the finished file
            path.with_suffix(".json").unlink(missing_ok=True)
            raise _DiskTrouble(exc) from exc

    def _prepare(self, samples: np.ndarray, rate: int, index: int) -> np.ndarray:
        """One piece trimmed and faded (see join_pieces); SpeechError when it holds no sound."""
        # No padding: the fade must cover the first and last milliseconds of actual sound,
        # or an engine whose output starts mid-waveform would still click at the joint.
        trimmed = trim_silence(samples, rate, pad_ms=0)
        if trimmed.size == 0:
            raise SpeechError(f"đoạn {index + 1} chỉ có im lặng / piece {index + 1} is silent")
        return fade_edges(trimmed, rate, fade_ms=self.settings.fade_ms)

    def _store_sidecar(self, path: Path, engine: SpeechEngine, spoken: str, key: str, rendered, *,
                       seconds: float) -> None:
        s = self.settings
        sidecar = {
            "key": key,
            "engine": engine.name,
            "identity": engine.identity(),
            "spoken_text": spoken,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "sample_rate": rendered.sample_rate,
            "frames": rendered.frames,
            "duration_s": round(rendered.frames / rendered.sample_rate, 3),
            "integrated_lufs": rendered.integrated_lufs,
            "synthesis_s": round(seconds, 3),
            "settings": {
                "speech_chunk_chars": s.speech_chunk_chars,
                "sentence_gap_ms": s.sentence_gap_ms,
                "fade_ms": s.fade_ms,
            },
        }
        try:
            write_atomic(path.with_suffix(".json"), json.dumps(sidecar, ensure_ascii=False, indent=1).encode("utf-8"))
        except OSError as exc:
            raise _DiskTrouble(exc) from exc


class _DiskTrouble(Exception):
    """Writing the cache failed (disk full or failing): not the engine's fault, no fallback."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Monotonic:
    """progress(fraction) with the fraction clamped to 0..1 and never going down."""

    def __init__(self, progress: Callable[[float], None] | None) -> None:
        self._progress = progress
        self._last = -1.0

    def __call__(self, fraction: float) -> None:
        if self._progress is None:
            return
        fraction = min(1.0, max(self._last, float(fraction), 0.0))
        if fraction > self._last:
            self._last = fraction
            self._progress(fraction)
