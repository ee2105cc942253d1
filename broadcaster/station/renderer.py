"""Text or a recording → a cached program item file (speech + jingles + loudness), the station
filler and the urgent desk's normalized copies: what needs settings, the lexicon file, the speech
chain and the render cache, and never the database.

`Renderer` is the one renderer: the station's items part (station.items.Items, which adds what a
bulletin's render records in the database) is one, and `broadcaster render --text/--file` builds one
from the settings alone, so a text is rendered the same way by both and the command starts without
the database layer (issue 13, start-up).

Every file here is made through the one cache helper (station.cache): converted once, found again
after. The cache keys and file names are those of the code before issue #10 — existing caches stay
valid (tests/station/test_item_cache_keys.py keeps frozen copies of the formulas).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..disk import part_file, require_space
from ..exceptions import AudioError, InputError, NotFoundError
from .cache import cached_figures, convert_once
from .texts import check_text_length

if TYPE_CHECKING:
    from ..config import Settings
    from ..speech.lexicon import Lexicon
    from ..speech.synth import SpeechResult, Synthesizer
    from ..speech.voices import Voice

@dataclass(frozen=True)
class RenderOutcome:
    """A rendered program item and how it was made."""

    path: Path
    spoken_text: str
    engine: str
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    failures: tuple[str, ...] = ()
    voice: str | None = None  # engine:voice that spoke it


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def normalized_copy(settings: Settings, source: Path, what: str) -> Path:
    """`source` decoded and brought to the station loudness (no jingles), cached by content under
    <cache>/urgent/<what>-<key>.wav: the urgent desk's attention tone and recordings."""
    from ..audio.render import render_item

    source = Path(source)
    if not source.is_file():
        raise AudioError(f"Không tìm thấy tệp âm thanh: {source}", path=str(source))
    digest = hashlib.sha256()
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"|{settings.sample_rate}|{settings.target_lufs}|{settings.true_peak_dbtp}|{settings.fade_ms}".encode())
    out = Path(settings.cache_dir) / "urgent" / f"{what}-{digest.hexdigest()[:32]}.wav"
    return convert_once(out, lambda path: render_item(source, path, settings=settings, jingles=False))


#: Share of a text render's progress given to the speech (synthesis, resampling); the item
#: (jingle levelling, two passes of loudness) takes the rest.
_SPEECH_SHARE = 0.6


class _Share:
    """One progress callback split into consecutive shares, never going down."""

    def __init__(self, progress) -> None:
        self._progress = progress
        self._last = -1.0

    def __call__(self, fraction: float) -> None:
        if self._progress is None:
            return
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction > self._last:
            self._last = fraction
            self._progress(fraction)

    def part(self, start: float, end: float):
        """A callback for a step that reports its own 0..1, mapped onto start..end of the whole."""
        if self._progress is None:
            return None
        return lambda fraction: self(start + (end - start) * min(1.0, max(0.0, float(fraction))))


def _officer_path(out: Path | None) -> Path | None:
    """Where an officer asked for a copy of the item (checked, its folder made, before anything is rendered)."""
    if out is None:
        return None
    final = Path(out)
    if final.is_dir():
        raise InputError(f"'{final}' là một thư mục; hãy cho tên tệp .wav")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp {final}: {exc.strerror or exc}", path=str(final)) from exc
    return final


def _copy_target(final: Path | None, item_path: Path) -> Path | None:
    """Where the officer's copy goes: `final`, unless none was asked for or it is the cached item itself."""
    return final if final is not None and final.resolve() != item_path.resolve() else None


def _delivered(item_path: Path, copy_to: Path | None, *, written: bool) -> Path:
    """The file the caller gets: the cached item itself, or the officer's copy at `copy_to` (`written`
    when the render wrote it alongside the item; else copied from the cache now, whole or not at all)."""
    if copy_to is None:
        return item_path
    if not written:
        try:
            with part_file(copy_to) as tmp:
                shutil.copyfile(item_path, tmp)
        except OSError as exc:
            raise AudioError(f"Không ghi được tệp {copy_to}: {exc.strerror or exc}", path=str(copy_to)) from exc
    return copy_to


class Renderer:
    """Speech and program items for one station: the lexicon, the synthesizer, the item cache."""

    def __init__(self, *, settings: Settings, synthesizer: Synthesizer | None = None) -> None:
        self.settings = settings
        self._synth = synthesizer
        self._lexicon_cache: tuple[float, Lexicon] | None = None

    # ------------------------------------------------------------------ speech
    def lexicon(self) -> Lexicon:
        """The effective lexicon (built-in + the station's file), reloaded when the file changes."""
        from ..speech.lexicon import Lexicon

        path = self.settings.lexicon_path
        mtime = path.stat().st_mtime if path.exists() else -1.0
        if self._lexicon_cache is None or self._lexicon_cache[0] != mtime:
            self._lexicon_cache = (mtime, Lexicon.load(path))
        return self._lexicon_cache[1]

    def normalize(self, text: str) -> str:
        """What will be said for this text (the one normalization entry point + lexicon)."""
        from ..speech.normalize import normalize

        return normalize(text, self.lexicon())

    @property
    def synthesizer(self) -> Synthesizer:
        """The speech chain; it is handed this part's normalize (never the facade)."""
        if self._synth is None:
            from ..speech.synth import Synthesizer

            self._synth = Synthesizer(settings=self.settings, normalizer=self.normalize)
        return self._synth

    def speak(self, text: str, *, engine: str | None = None, voice: str | None = None,
              progress=None) -> SpeechResult:
        """Synthesize (or fetch from the cache) the speech for a text, in `voice` when given;
        progress(0..1) as it goes."""
        if not text or not text.strip():
            raise InputError("Nội dung bản tin trống / the text is empty")
        return self.synthesizer.speak(text, engine=engine, voice=voice, progress=progress)

    def voices(self) -> list[Voice]:
        """Every voice installed here (the engine order's first)."""
        return self.synthesizer.voices()

    def voice_ids(self) -> list[str]:
        """The engine:voice ids of `voices()`."""
        return [v.id for v in self.voices()]

    # ------------------------------------------------------------------- items
    def item_key(self, speech_path: Path, jingles: bool) -> str:
        """The cache key of a program item made from `speech_path` (unchanged since before #10)."""
        from ..audio import builtin_asset

        s = self.settings
        parts: dict[str, object] = {
            "speech": speech_path.name,
            "jingles": jingles,
            "gap": s.jingle_gap_ms,
            "fade": s.fade_ms,
            "lufs": s.target_lufs,
            "peak": s.true_peak_dbtp,
            "rate": s.sample_rate,
        }
        if jingles:
            for name, override in (("intro", s.intro_jingle), ("outro", s.outro_jingle)):
                path = Path(override) if override else builtin_asset(name)
                parts[name] = file_digest(path) if path.is_file() else str(path)
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]

    def _render(self, source: Path, jingles: bool, *, speech_lufs: float | None = None, probe_sample=None,
                copy_to: Path | None = None, copied: list | None = None, progress=None):
        """The item's render for cached_figures; with ``copy_to`` the item is written there too as
        it is made (``copied`` then gets that path: no copy is needed after)."""
        from ..audio import render_item

        def render(item: Path) -> dict:
            extra = {} if progress is None else {"progress": progress}
            if copy_to is not None:
                extra["copy_to"] = copy_to
            if speech_lufs is not None:  # known from the speech sidecar: not measured again
                extra["speech_lufs"] = speech_lufs
            if probe_sample is not None:  # kept as the speech was made: the probe does not read it
                extra["speech_sample"] = probe_sample
            info = render_item(source, item, settings=self.settings, jingles=jingles, **extra)
            if "copy_to" in extra and copied is not None:
                copied.append(copy_to)
            return {"duration_s": info.duration_s, "integrated_lufs": info.integrated_lufs,
                    "true_peak_dbtp": info.true_peak_dbtp}

        return render

    @staticmethod
    def _speech_lufs(speech_path: Path) -> float | None:
        """The speech's loudness as its cache sidecar records it (None: not recorded, measured then)."""
        try:
            value = json.loads(speech_path.with_suffix(".json").read_text(encoding="utf-8")).get("integrated_lufs")
        except (OSError, ValueError, AttributeError):
            return None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def _measure(self, item: Path) -> dict:
        # an item cached before its figures were kept: measured once
        from ..audio import load_audio, measure

        rate = self.settings.sample_rate
        samples = load_audio(item, sample_rate=rate)
        loudness = measure(samples, rate)
        return {"duration_s": len(samples) / rate, "integrated_lufs": loudness.integrated_lufs,
                "true_peak_dbtp": loudness.true_peak_dbtp}

    def render_text(
        self, text: str, *, out: Path | None = None, engine: str | None = None, jingles: bool = True,
        space_check: bool = True, voice: str | None = None, progress=None,
    ) -> RenderOutcome:
        """Text → speech → program item (jingles, loudness). Cached; copied to `out` if given.

        Refused (DiskFullError, one line) while the data directory's disk is below min_free_mb,
        unless `space_check` is False (an urgent message: a few hundred KB that must air).
        `progress(fraction)`, when given, is called with the share done, 0..1, never decreasing:
        the speech is most of the work of a long text, the item (jingles, loudness) the rest."""
        if space_check:
            require_space(self.settings)
        check_text_length(text or "")  # before any speech is made (issue 9 item 4)
        final = _officer_path(out)
        report = _Share(progress)
        speech = self.speak(text, engine=engine, voice=voice, progress=report.part(0.0, _SPEECH_SHARE))
        item_path = self.settings.cache_dir / "items" / f"{self.item_key(speech.path, jingles)}.wav"
        speech_lufs = self._speech_lufs(speech.path)
        copy_to = _copy_target(final, item_path)
        copied: list[Path] = []  # the officer's copy, when the render wrote it alongside the item
        render = self._render(speech.path, jingles, speech_lufs=speech_lufs, probe_sample=speech.probe_sample,
                              copy_to=copy_to, copied=copied,
                              progress=report.part(_SPEECH_SHARE, 1.0) if progress is not None else None)
        figures = cached_figures(item_path, render=render, measure=self._measure)
        report(1.0)
        return RenderOutcome(
            path=_delivered(item_path, copy_to, written=bool(copied)),
            spoken_text=speech.spoken_text,
            engine=speech.engine,
            duration_s=figures["duration_s"],
            integrated_lufs=figures["integrated_lufs"],
            true_peak_dbtp=figures["true_peak_dbtp"],
            failures=speech.failures,
            voice=speech.voice,
        )

    def render_recording(self, recording: Path, *, out: Path | None = None, jingles: bool = True,
                         progress: Callable[[float], None] | None = None) -> RenderOutcome:
        """An officer's recording (MP3/WAV/M4A) → program item (jingles, loudness), cached by content;
        copied to `out` if given (as render_text)."""
        require_space(self.settings)
        if not recording.is_file():
            raise AudioError(f"Không tìm thấy tệp ghi âm: {recording}", path=str(recording))
        final = _officer_path(out)
        digest = file_digest(recording)
        key = hashlib.sha256(f"recording:{digest}:{self.item_key(recording, jingles)}".encode()).hexdigest()[:32]
        item_path = self.settings.cache_dir / "items" / f"{key}.wav"
        # the same recording with the same settings is rendered once (no sidecar: rendered again)
        figures = cached_figures(item_path, render=self._render(recording, jingles))
        if progress is not None:
            progress(1.0)
        return RenderOutcome(
            path=_delivered(item_path, _copy_target(final, item_path), written=False),
            spoken_text="",
            engine="recording",
            duration_s=figures["duration_s"],
            integrated_lufs=figures["integrated_lufs"],
            true_peak_dbtp=figures["true_peak_dbtp"],
        )

    def filler_path(self) -> Path:
        """The station filler as a 16-bit WAV at the output rate: the file itself when it already
        is one, else a copy converted once into the cache. AudioError/NotFoundError say why not."""
        from ..audio import builtin_asset
        from ..audio.files import _is_plain_wav
        from ..media import decode, write_wav

        source = Path(self.settings.filler).expanduser() if self.settings.filler else builtin_asset("filler")
        if not source.is_file():
            raise NotFoundError(f"Không tìm thấy tệp nhạc đệm: {source}", path=str(source))
        rate = self.settings.sample_rate
        if _is_plain_wav(source, rate):
            return source
        stat = source.stat()
        key = hashlib.sha256(f"{source.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{rate}".encode()).hexdigest()
        out = self.settings.cache_dir / "filler" / f"{key[:32]}.wav"
        # whole or nothing (media.write_wav)
        return convert_once(out, lambda path: write_wav(path, decode(source, sample_rate=rate, channels=1),
                                                        sample_rate=rate))


__all__ = ["RenderOutcome", "Renderer", "file_digest", "normalized_copy"]
