"""Any source → a cached program item file: bulletin text (speech + jingles + loudness), an officer's
recording, the station filler, the urgent desk's tone and recordings.

Every file here is made through the one cache helper (station.cache): converted once, found again
after. The cache keys and file names are those of the code before issue #10 — existing caches stay
valid (tests/station/test_item_cache_keys.py keeps frozen copies of the formulas).

`Items` is built with the settings, the database engine (to record a bulletin's rendered file or
the reason it failed) and optionally a synthesizer; it never sees the station facade.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..disk import part_file, require_space
from ..exceptions import AudioError, BroadcasterError, InputError, NotFoundError
from ..models import Bulletin, BulletinPublic
from . import bulletins
from .cache import cached_figures, convert_once

if TYPE_CHECKING:
    from ..config import Settings
    from ..speech.lexicon import Lexicon
    from ..speech.synth import SpeechResult, Synthesizer
    from ..speech.voices import Voice

log = logging.getLogger(__name__)


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


class Items:
    """Speech and program items for one station: the lexicon, the synthesizer, the item cache."""

    def __init__(self, *, settings: Settings, engine: Engine, synthesizer: Synthesizer | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self._synth = synthesizer
        self._lexicon_cache: tuple[float, Lexicon] | None = None

    def over_engine(self, engine: Engine) -> Items:
        """The same items (synthesizer, lexicon, cache) recording results through another engine."""
        import copy

        _ = self.synthesizer  # made now, so both views share one synthesizer (and its locks)
        view = copy.copy(self)
        view.engine = engine
        return view

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

    def _render(self, source: Path, jingles: bool, *, speech_lufs: float | None = None, progress=None):
        from ..audio import render_item

        def render(item: Path) -> dict:
            extra = {} if progress is None else {"progress": progress}
            if speech_lufs is not None:  # known from the speech sidecar: not measured again
                extra["speech_lufs"] = speech_lufs
            info = render_item(source, item, settings=self.settings, jingles=jingles, **extra)
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
        bulletins.check_text_length(text or "")  # before any speech is made (issue 9 item 4)
        report = _Share(progress)
        speech = self.speak(text, engine=engine, voice=voice, progress=report.part(0.0, _SPEECH_SHARE))
        item_path = self.settings.cache_dir / "items" / f"{self.item_key(speech.path, jingles)}.wav"
        speech_lufs = self._speech_lufs(speech.path)
        render = self._render(speech.path, jingles, speech_lufs=speech_lufs,
                              progress=report.part(_SPEECH_SHARE, 1.0) if progress is not None else None)
        figures = cached_figures(item_path, render=render, measure=self._measure)
        report(1.0)
        final = item_path
        if out is not None:
            final = Path(out)
            if final.is_dir():
                raise InputError(f"'{final}' là một thư mục; hãy cho tên tệp .wav")
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                with part_file(final) as tmp:
                    shutil.copyfile(item_path, tmp)
            except OSError as exc:
                raise AudioError(f"Không ghi được tệp {final}: {exc.strerror or exc}", path=str(final)) from exc
        return RenderOutcome(
            path=final,
            spoken_text=speech.spoken_text,
            engine=speech.engine,
            duration_s=figures["duration_s"],
            integrated_lufs=figures["integrated_lufs"],
            true_peak_dbtp=figures["true_peak_dbtp"],
            failures=speech.failures,
            voice=speech.voice,
        )

    def render_recording(self, recording: Path, *, jingles: bool = True,
                         progress: Callable[[float], None] | None = None) -> RenderOutcome:
        """An officer's recording (MP3/WAV/M4A) → program item (jingles, loudness), cached by content."""
        require_space(self.settings)
        if not recording.is_file():
            raise AudioError(f"Không tìm thấy tệp ghi âm: {recording}", path=str(recording))
        digest = file_digest(recording)
        key = hashlib.sha256(f"recording:{digest}:{self.item_key(recording, jingles)}".encode()).hexdigest()[:32]
        item_path = self.settings.cache_dir / "items" / f"{key}.wav"
        # the same recording with the same settings is rendered once (no sidecar: rendered again)
        figures = cached_figures(item_path, render=self._render(recording, jingles))
        if progress is not None:
            progress(1.0)
        return RenderOutcome(
            path=item_path,
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

    # --------------------------------------------------------------- bulletins
    def _record(self, bulletin_id: int, values: dict[str, object]) -> BulletinPublic:
        with Session(self.engine) as session:
            row = session.get(Bulletin, bulletin_id)
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()
            return BulletinPublic.model_validate(row)

    def get_bulletin(self, bulletin_id: int) -> BulletinPublic:
        """The bulletin as stored (its item file, render error). NotFoundError when there is none."""
        with Session(self.engine) as session:
            return bulletins.get(session=session, bulletin_id=bulletin_id)

    @staticmethod
    def _item_values(outcome: RenderOutcome) -> dict[str, object]:
        return {"item_path": str(outcome.path), "item_engine": outcome.engine, "item_voice": outcome.voice,
                "item_duration_s": outcome.duration_s, "render_error": None, "render_state": "done"}

    def prepare_bulletin(self, bulletin_id: int) -> BulletinPublic:
        """Render a bulletin's program item ahead of air; remember the file or the reason it failed.

        A bulletin with an officer's own recording (recording_path) airs that recording, decoded,
        wrapped in the jingles and brought to the station loudness, instead of synthesized speech."""
        bulletin = self.get_bulletin(bulletin_id)
        try:
            if bulletin.recording_path:
                outcome = self.render_recording(Path(bulletin.recording_path))
            else:
                outcome = self.render_text(bulletin.text, voice=bulletin.voice)
            values = self._item_values(outcome)
        except BroadcasterError as exc:
            log.warning("render of bulletin %s failed: %s", bulletin_id, exc)
            values = {"render_error": str(exc), "render_state": "failed"}
        self._record(bulletin_id, values)
        return self.get_bulletin(bulletin_id)

    def prepare_bulletin_offline(self, bulletin_id: int) -> BulletinPublic:
        """The last render attempt at air time: offline engines only (never the network), so a
        slot is never held up by a gTTS request that hangs. Records the file or the reason."""
        from ..config import KNOWN_ENGINES, ONLINE_ENGINES

        online = set(ONLINE_ENGINES)
        order = [e for e in self.settings.engine_order if e not in online]
        order = order or [e for e in KNOWN_ENGINES if e not in online]
        bulletin = self.get_bulletin(bulletin_id)
        if bulletin.recording_path:  # an officer's recording needs no engine (nor the network)
            return self.prepare_bulletin(bulletin_id)
        values: dict[str, object] = {}
        for engine in order:
            try:
                outcome = self.render_text(bulletin.text, engine=engine, voice=bulletin.voice)
            except BroadcasterError as exc:
                values = {"render_error": str(exc), "render_state": "failed"}
                continue
            values = self._item_values(outcome)
            break
        self._record(bulletin_id, values)
        return self.get_bulletin(bulletin_id)

    def prerender_due(self, day: date) -> list[BulletinPublic]:
        """Render ahead every bulletin due on a day that has no usable file yet."""
        with Session(self.engine) as session:
            pool = bulletins.due(session=session, day=day)
        done = []
        for bulletin in pool:
            if not bulletin.item_path or not Path(bulletin.item_path).is_file():
                bulletin = self.prepare_bulletin(bulletin.id)
            done.append(bulletin)
        return done


__all__ = ["Items", "RenderOutcome", "file_digest", "normalized_copy"]
