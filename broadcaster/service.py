"""The station facade: what the CLI, the scheduler and (later) the web console call.

It combines speech, audio and playout, and it is the only writer of the as-run log.
Every dependency (settings, database engine, synthesizer, player, clock) is passed in
or built from settings, so tests can swap the boundary they cannot reach.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .config import Settings, settings_template
from .db import as_utc, create_schema, make_engine
from .disk import part_file, write_atomic
from .exceptions import AudioError, BroadcasterError, InputError, NotFoundError
from .models import (
    AsRun,
    AsRunPublic,
    AsRunStatus,
    Bulletin,
    BulletinClass,
    BulletinPublic,
    BulletinStatus,
    utcnow,
)
from .station.asrun import CRASH_REASON, AsRunLog
from .station.gate import AirGate
from .station.slots import SlotAirer

if TYPE_CHECKING:
    from .playout.player import Player
    from .scheduling.programme import Programme
    from .scheduling.timetable import Slot, Timetable
    from .speech.synth import SpeechResult, Synthesizer
    from .station.urgent import UrgentDesk

log = logging.getLogger(__name__)

def init_data_dir(settings: Settings) -> list[str]:
    """Create the data directory, cache, settings file and database. Idempotent.

    Returns what was created this time (empty when everything already existed).
    """
    from .backup import guard_database, mark_station, private_database, private_dir

    # a directory that had a station and lost its database is refused before anything is written
    guard_database(settings)
    created: list[str] = []
    if not settings.data_dir.exists():
        private_dir(settings.data_dir)  # 0700: the database holds the password hashes
        created.append(str(settings.data_dir))
    # the default media folder too: where an officer puts the files relay slots may play
    media = [settings.media_path] if settings.media_dir is None else []
    for directory in (settings.cache_dir, settings.cache_dir / "items", *media):
        if not directory.exists():
            directory.mkdir(parents=True, exist_ok=True)
            created.append(str(directory))
    if not settings.settings_path.exists():
        write_atomic(settings.settings_path, settings_template())
        created.append(str(settings.settings_path))
    existed = not private_database(settings.db_path)  # 0600 (SQLite gives new -wal/-shm the same mode)
    engine = make_engine(settings.db_path)
    try:
        create_schema(engine)
        from .scheduling.store import ensure_timetable

        # the database is the timetable: fill it from the TOML file on first start only
        ensure_timetable(engine=engine, settings=settings)
        marker = mark_station(settings, engine)  # from now on a lost database is noticed
    finally:
        engine.dispose()
    if not existed:
        created.append(str(settings.db_path))
    if marker is not None:
        created.append(str(marker))
    return created


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


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Station:
    """One station: its settings, database, speech chain and sound card."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        synthesizer: Synthesizer | None = None,
        player_factory: Callable[[], Player] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.db = engine or make_engine(settings.db_path)
        self._synth = synthesizer
        self._player_factory = player_factory
        self._lexicon_cache: tuple[float, object] | None = None
        # air path: the parts, each built with its collaborators (the items are this facade for now)
        self._clock = clock or utcnow
        self.asrun = AsRunLog(engine=self.db, settings=settings, clock=self._clock)
        self.air_gate = AirGate()  # turn-taking between the slot loop and the urgent desk, one per station
        self.slots = SlotAirer(settings=settings, engine=self.db, clock=self._clock, asrun=self.asrun,
                               gate=self.air_gate, items=_FacadeItems(self))

    @classmethod
    def open(cls, settings: Settings, **kwargs) -> Station:
        """Prepare the data directory (idempotent) and return a station on it."""
        init_data_dir(settings)
        return cls(settings, **kwargs)

    def close(self) -> None:
        if self.pending_rows and not self.flush_pending_rows():
            for row in self.pending_rows:  # the disk is still full: the log file keeps what aired
                log.error("as-run row lost (database not writable): %s %s %s %s", row.started_at, row.title,
                          row.status, row.reason or "")
        self.db.dispose()

    def over_engine(self, engine: Engine) -> Station:
        """This station seen through another engine (serve's web console has its own pool): the
        same settings, air gate, locks and caches; only the database connections differ."""
        import copy

        view = copy.copy(self)
        view.db = engine
        # air path: the same gate, held-back rows and slot lock; the view's own connections
        view.asrun = self.asrun.over_engine(engine)
        view.slots = self.slots.over_engine(engine, asrun=view.asrun, items=_FacadeItems(view))
        return view

    # air path: the clock the parts read (tests set station.clock after construction)
    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    @clock.setter
    def clock(self, value: Callable[[], datetime]) -> None:
        self._clock = value
        for part in (self.__dict__.get("asrun"), self.__dict__.get("slots")):
            if part is not None:
                part.clock = value

    # ------------------------------------------------------------------ speech
    def lexicon(self):
        """The effective lexicon (built-in + the station's file), reloaded when the file changes."""
        from .speech.lexicon import Lexicon

        path = self.settings.lexicon_path
        mtime = path.stat().st_mtime if path.exists() else -1.0
        if self._lexicon_cache is None or self._lexicon_cache[0] != mtime:
            self._lexicon_cache = (mtime, Lexicon.load(path))
        return self._lexicon_cache[1]

    def normalize(self, text: str) -> str:
        """What will be said for this text (the one normalization entry point + lexicon)."""
        from .speech.normalize import normalize

        return normalize(text, self.lexicon())

    @property
    def synthesizer(self) -> Synthesizer:
        if self._synth is None:
            from .speech.synth import Synthesizer

            self._synth = Synthesizer(settings=self.settings, normalizer=self.normalize)
        return self._synth

    def speak(self, text: str, *, engine: str | None = None) -> SpeechResult:
        """Synthesize (or fetch from the cache) the speech for a text."""
        if not text or not text.strip():
            raise InputError("Nội dung bản tin trống / the text is empty")
        return self.synthesizer.speak(text, engine=engine)

    # ------------------------------------------------------------------- audio
    def _item_key(self, speech_path: Path, jingles: bool) -> str:
        from .audio import builtin_asset

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
                parts[name] = _file_digest(path) if path.is_file() else str(path)
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]

    def render_text(
        self, text: str, *, out: Path | None = None, engine: str | None = None, jingles: bool = True,
        space_check: bool = True,
    ) -> RenderOutcome:
        """Text → speech → program item (jingles, loudness). Cached; copied to `out` if given.

        Refused (DiskFullError, one line) while the data directory's disk is below min_free_mb,
        unless `space_check` is False (an urgent message: a few hundred KB that must air)."""
        from .audio import load_audio, measure, render_item
        from .disk import require_space

        if space_check:
            require_space(self.settings)
        from .editorial import check_text_length

        check_text_length(text or "")  # before any speech is made (issue 9 item 4)
        speech = self.speak(text, engine=engine)
        item_path = self.settings.cache_dir / "items" / f"{self._item_key(speech.path, jingles)}.wav"
        figures_path = item_path.with_suffix(".json")
        figures = None
        if item_path.exists() and figures_path.exists():
            # same speech, same jingles, same settings: never rendered (nor measured) twice
            try:
                figures = json.loads(figures_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                figures = None
        if figures is None:
            if item_path.exists():  # an item cached before its figures were kept: measure once
                samples = load_audio(item_path, sample_rate=self.settings.sample_rate)
                loudness = measure(samples, self.settings.sample_rate)
                figures = {
                    "duration_s": len(samples) / self.settings.sample_rate,
                    "integrated_lufs": loudness.integrated_lufs,
                    "true_peak_dbtp": loudness.true_peak_dbtp,
                }
            else:
                info = render_item(speech.path, item_path, settings=self.settings, jingles=jingles)
                figures = {
                    "duration_s": info.duration_s,
                    "integrated_lufs": info.integrated_lufs,
                    "true_peak_dbtp": info.true_peak_dbtp,
                }
            _write_or_say(figures_path, json.dumps(figures))
        duration_s, lufs, peak = figures["duration_s"], figures["integrated_lufs"], figures["true_peak_dbtp"]
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
            duration_s=duration_s,
            integrated_lufs=lufs,
            true_peak_dbtp=peak,
            failures=speech.failures,
        )

    # --------------------------------------------------------------- bulletins
    def add_bulletin(
        self,
        *,
        title: str,
        text: str,
        approve: bool = False,
        bulletin_class: BulletinClass = BulletinClass.normal,
        valid_from: date | None = None,
        valid_until: date | None = None,
        frequency: str = "every_slot",
        times: int | None = None,
        slot_names: list[str] | None = None,
    ) -> BulletinPublic:
        """Store a new bulletin (draft, or approved and rendered ahead).

        frequency: every_slot, n_times (with `times`) or chosen_slots (with `slot_names`).
        """
        from .editorial import check_text_length, check_title

        title, text = (title or "").strip(), (text or "").strip()
        if not title:
            raise InputError("Tiêu đề bản tin trống / the title is empty")
        if not text:
            raise InputError("Nội dung bản tin trống / the text is empty")
        check_title(title)  # before anything is stored (issue 9 item 4)
        check_text_length(text)
        if valid_from and valid_until and valid_until < valid_from:
            raise InputError("Ngày kết thúc trước ngày bắt đầu / valid_until is before valid_from")
        from .models import Frequency
        from .scheduling.programme import check_frequency

        try:
            frequency = Frequency(frequency)
        except ValueError as exc:
            raise InputError(f"Tần suất '{frequency}' không hợp lệ (every_slot, n_times, chosen_slots)") from exc
        slot_names = [n.strip() for n in slot_names or [] if n and n.strip()] or None
        problem = check_frequency(frequency, times, slot_names)
        if problem:
            raise InputError(problem)
        with Session(self.db) as session:
            bulletin = Bulletin(
                title=title,
                text=text,
                bulletin_class=bulletin_class,
                valid_from=valid_from,
                valid_until=valid_until,
                frequency=frequency,
                times=times if frequency == Frequency.n_times else None,
                slot_names=slot_names if frequency == Frequency.chosen_slots else None,
            )
            session.add(bulletin)
            session.commit()
            session.refresh(bulletin)
            bulletin_id = bulletin.id
        if approve:
            return self.approve(bulletin_id=bulletin_id)
        return self.get_bulletin(bulletin_id)

    def get_bulletin(self, bulletin_id: int) -> BulletinPublic:
        with Session(self.db) as session:
            bulletin = session.get(Bulletin, bulletin_id)
            if bulletin is None:
                raise NotFoundError(f"Không có bản tin số {bulletin_id} / no bulletin with id {bulletin_id}")
            return BulletinPublic.model_validate(bulletin)

    def list_bulletins(self) -> list[BulletinPublic]:
        with Session(self.db) as session:
            rows = session.exec(select(Bulletin).order_by(col(Bulletin.id))).all()
            return [BulletinPublic.model_validate(b) for b in rows]

    def approve(self, *, bulletin_id: int, by: str | None = None) -> BulletinPublic:
        """Approve a bulletin and render it ahead; a render failure is recorded, not raised.

        `by` is who approved it (the web console's leader; None from the CLI's --approve)."""
        with Session(self.db) as session:
            bulletin = session.get(Bulletin, bulletin_id)
            if bulletin is None:
                raise NotFoundError(f"Không có bản tin số {bulletin_id} / no bulletin with id {bulletin_id}")
            bulletin.status = BulletinStatus.approved
            bulletin.approved_at = self.clock()
            bulletin.approved_by = by
            session.add(bulletin)
            session.commit()
        self.prepare_bulletin(bulletin_id)
        return self.get_bulletin(bulletin_id)

    def prepare_bulletin(self, bulletin_id: int) -> BulletinPublic:
        """Render a bulletin's program item ahead of air; remember the file or the reason it failed.

        A bulletin with an officer's own recording (recording_path) airs that recording, decoded,
        wrapped in the jingles and brought to the station loudness, instead of synthesized speech."""
        bulletin = self.get_bulletin(bulletin_id)
        try:
            if bulletin.recording_path:
                outcome = self.render_recording(Path(bulletin.recording_path))
            else:
                outcome = self.render_text(bulletin.text)
            values = {
                "item_path": str(outcome.path),
                "item_engine": outcome.engine,
                "item_duration_s": outcome.duration_s,
                "render_error": None,
            }
        except BroadcasterError as exc:
            log.warning("render of bulletin %s failed: %s", bulletin_id, exc)
            values = {"render_error": str(exc)}
        with Session(self.db) as session:
            row = session.get(Bulletin, bulletin_id)
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()
        return self.get_bulletin(bulletin_id)

    def render_recording(self, recording: Path, *, jingles: bool = True) -> RenderOutcome:
        """An officer's recording (MP3/WAV/M4A) → program item (jingles, loudness), cached by content."""
        from .audio import render_item
        from .disk import require_space

        require_space(self.settings)
        if not recording.is_file():
            raise AudioError(f"Không tìm thấy tệp ghi âm: {recording}", path=str(recording))
        digest = _file_digest(recording)
        key = hashlib.sha256(f"recording:{digest}:{self._item_key(recording, jingles)}".encode()).hexdigest()[:32]
        item_path = self.settings.cache_dir / "items" / f"{key}.wav"
        figures_path = item_path.with_suffix(".json")
        try:  # the same recording with the same settings is rendered once
            figures = json.loads(figures_path.read_text(encoding="utf-8")) if item_path.exists() else None
        except (OSError, ValueError):
            figures = None
        if figures is None:
            info = render_item(recording, item_path, settings=self.settings, jingles=jingles)
            figures = {"duration_s": info.duration_s, "integrated_lufs": info.integrated_lufs,
                       "true_peak_dbtp": info.true_peak_dbtp}
            _write_or_say(figures_path, json.dumps(figures))
        return RenderOutcome(
            path=item_path,
            spoken_text="",
            engine="recording",
            duration_s=figures["duration_s"],
            integrated_lufs=figures["integrated_lufs"],
            true_peak_dbtp=figures["true_peak_dbtp"],
        )

    def due_bulletins(self, day: date) -> list[BulletinPublic]:
        """Approved bulletins valid on a station-local day, in airing order (ưu tiên first, then by approval).

        Slot by slot selection (frequency, maximum length) is `programme`; this is the day's pool.
        """
        from .models import Frequency
        from .scheduling.store import airing_counts

        live = [BulletinStatus.approved, BulletinStatus.scheduled]
        with Session(self.db) as session:
            rows = session.exec(select(Bulletin).where(col(Bulletin.status).in_(live))).all()
            counts = airing_counts(session=session, bulletin_ids=[b.id for b in rows if b.frequency == "n_times"])
            due = [
                BulletinPublic.model_validate(b)
                for b in rows
                if (b.valid_from is None or b.valid_from <= day)
                and (b.valid_until is None or day <= b.valid_until)
                and not (b.frequency == Frequency.n_times and counts.get(b.id, 0) >= (b.times or 1))
            ]
        rank = {BulletinClass.emergency: 0, BulletinClass.priority: 1, BulletinClass.normal: 2}
        due.sort(key=lambda b: (rank[b.bulletin_class], as_utc(b.approved_at) or b.created_at, b.id))
        return due

    # ------------------------------------------------------------------ as-run (station/asrun.py)
    def recover_interrupted(self) -> int:
        """Rows left on_air by a crash become interrupted. Returns how many."""
        return self.asrun.recover_interrupted()

    def _open_row(self, **fields) -> int:
        return self.asrun.open_row(**fields)

    def _close_row(self, row_id: int, **fields) -> AsRunPublic:
        return self.asrun.close_row(row_id, **fields)

    @property
    def pending_rows(self) -> list[AsRun]:
        """As-run rows not yet written (the database could not be written), oldest first."""
        return self.asrun.pending_rows

    def flush_pending_rows(self) -> int:
        """Write the closed rows a full disk held back; returns how many were written."""
        return self.asrun.flush_pending_rows()

    def log_failure(self, *, title: str, reason: str, **fields) -> AsRunPublic:
        """A due item that could not start: a closed row with status failed and the reason."""
        return self.asrun.log_failure(title=title, reason=reason, **fields)

    def play_file(
        self,
        path: Path,
        *,
        player: Player,
        title: str | None = None,
        bulletin_id: int | None = None,
        slot: str | None = None,
        engine: str | None = None,
        planned_at: datetime | None = None,
        **row_fields,
    ) -> AsRunPublic:
        """Play one file through the player with its as-run row (see AsRunLog.play_file)."""
        return self.asrun.play_file(path, player=player, title=title, bulletin_id=bulletin_id, slot=slot,
                                    engine=engine, planned_at=planned_at, **row_fields)

    def as_run_log(self, *, since: date | None = None, limit: int | None = None) -> list[AsRunPublic]:
        """As-run rows, oldest first; `since` is a station-local date."""
        return self.asrun.as_run_log(since=since, limit=limit)

    # ------------------------------------------------------------------- time
    @property
    def tz(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.timezone)

    def local_midnight_utc(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(timezone.utc)

    def local_today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    # ------------------------------------------------------------------- slots
    def prerender_due(self, day: date) -> list[BulletinPublic]:
        """Render ahead every bulletin due on a day that has no usable file yet."""
        done = []
        for bulletin in self.due_bulletins(day):
            if not bulletin.item_path or not Path(bulletin.item_path).is_file():
                bulletin = self.prepare_bulletin(bulletin.id)
            done.append(bulletin)
        return done

    def timetable(self) -> Timetable:
        """The timetable the database holds, in the station's zone (disabled slots included)."""
        return self.slots.timetable()

    def programme(self, *, slot: Slot | str, planned_at: datetime) -> Programme:
        """What one slot occurrence airs: items in order, the overflow for the next slot, the total length."""
        return self.slots.programme(slot=slot, planned_at=planned_at)

    def prerender_slot(self, *, slot: Slot | str, planned_at: datetime) -> Programme:
        """Render ahead everything a slot occurrence will air (and its overflow)."""
        return self.slots.prerender_slot(slot=slot, planned_at=planned_at)

    def refresh_statuses(self) -> int:
        """Bring stored statuses in line with the as-run log and the calendar; returns how many changed."""
        return self.slots.refresh_statuses()

    def slot_handled(self, *, slot: Slot | str, planned_at: datetime) -> bool:
        """Whether a slot occurrence already has as-run rows (of any status): it never airs twice."""
        return self.slots.slot_handled(slot=slot, planned_at=planned_at)

    def log_missed(
        self, *, slot: Slot | str, planned_at: datetime, reason: str, status: AsRunStatus = AsRunStatus.missed
    ) -> list[AsRunPublic]:
        """A slot occurrence that did not air: a closed row per item it would have aired, with the reason."""
        return self.slots.log_missed(slot=slot, planned_at=planned_at, reason=reason, status=status)

    def relay_file(self, slot: Slot) -> Path:
        """The WAV a file relay plays (the file itself or a copy converted once into the cache)."""
        return self.slots.relay_file(slot)

    def air_slot(self, *, slot: Slot | str, planned_at: datetime, player: Player) -> list[AsRunPublic]:
        """Air one slot occurrence: its programme in order, each item with its as-run row."""
        return self.slots.air_slot(slot=slot, planned_at=planned_at, player=player)

    # ------------------------------------------------------------------ urgent
    def urgent_desk(self, player: Player, **kwargs) -> UrgentDesk:
        """An urgent desk on `player`, sharing this station's gate and as-run log (kwargs: ensure_device,
        say, mic_factory). The typed message's audio comes from this facade's render_text for now."""
        from .station.urgent import UrgentDesk

        return UrgentDesk(settings=self.settings, asrun=self.asrun, render_text=_FacadeRenderer(self),
                          player=player, gate=self.air_gate, **kwargs)

    def play_source(self, source, *, player: Player, title: str, **row_fields) -> AsRunPublic:
        """Play a live source (player.play_source: the microphone) with its as-run row, like play_file."""
        return self.asrun.play_source(source, player=player, title=title, **row_fields)

    def on_air_row(self) -> AsRunPublic | None:
        """The as-run row on air now (the latest still open), or None."""
        return self.asrun.on_air_row()

    # ------------------------------------------------------------------ faults
    def prepare_bulletin_offline(self, bulletin_id: int) -> BulletinPublic:
        """The last render attempt at air time: offline engines only (never the network), so a
        slot is never held up by a gTTS request that hangs. Records the file or the reason."""
        from .config import KNOWN_ENGINES

        online = {"gtts"}
        order = [e for e in self.settings.engine_order if e not in online]
        order = order or [e for e in KNOWN_ENGINES if e not in online]
        bulletin = self.get_bulletin(bulletin_id)
        if bulletin.recording_path:  # an officer's recording needs no engine (nor the network)
            return self.prepare_bulletin(bulletin_id)
        values: dict[str, object] = {}
        for engine in order:
            try:
                outcome = self.render_text(bulletin.text, engine=engine)
            except BroadcasterError as exc:
                values = {"render_error": str(exc)}
                continue
            values = {
                "item_path": str(outcome.path),
                "item_engine": outcome.engine,
                "item_duration_s": outcome.duration_s,
                "render_error": None,
            }
            break
        with Session(self.db) as session:
            row = session.get(Bulletin, bulletin_id)
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()
        return self.get_bulletin(bulletin_id)

    def log_alarm(self, *, title: str, reason: str, started_at: datetime | None = None,
                  ended_at: datetime | None = None, **fields) -> AsRunPublic:
        """A fault an officer must hear about: a closed row with status alarm (see AsRunLog.log_alarm)."""
        return self.asrun.log_alarm(title=title, reason=reason, started_at=started_at, ended_at=ended_at, **fields)

    def filler_path(self) -> Path:
        """The station filler as a 16-bit WAV at the output rate: the file itself when it already
        is one, else a copy converted once into the cache. AudioError/NotFoundError say why not."""
        from .audio import builtin_asset
        from .audio.files import _is_plain_wav
        from .media import decode, write_wav

        source = Path(self.settings.filler).expanduser() if self.settings.filler else builtin_asset("filler")
        if not source.is_file():
            raise NotFoundError(f"Không tìm thấy tệp nhạc đệm: {source}", path=str(source))
        rate = self.settings.sample_rate
        if _is_plain_wav(source, rate):
            return source
        stat = source.stat()
        key = hashlib.sha256(f"{source.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{rate}".encode()).hexdigest()
        out = self.settings.cache_dir / "filler" / f"{key[:32]}.wav"
        if not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            write_wav(out, decode(source, sample_rate=rate, channels=1), sample_rate=rate)  # whole or nothing
        return out

    def silence_fallback(self, *, player: Player, slot: str | None, planned_at: datetime | None,
                         reason: str | None) -> list[AsRunPublic]:
        """After dead air: an alarm row with the reason, then the station filler (its own row)."""
        return self.slots.silence_fallback(player=player, slot=slot, planned_at=planned_at, reason=reason)


# air path: what the slot airer and the urgent desk need from the items, served by this facade
# until station/items.py takes over (late-bound, so a test's monkeypatch on the station still applies)
class _FacadeItems:
    def __init__(self, station: Station) -> None:
        self._station = station

    def get_bulletin(self, bulletin_id: int) -> BulletinPublic:
        return self._station.get_bulletin(bulletin_id)

    def prepare_bulletin(self, bulletin_id: int) -> BulletinPublic:
        return self._station.prepare_bulletin(bulletin_id)

    def prepare_bulletin_offline(self, bulletin_id: int) -> BulletinPublic:
        return self._station.prepare_bulletin_offline(bulletin_id)

    def filler_path(self) -> Path:
        return self._station.filler_path()


class _FacadeRenderer:
    def __init__(self, station: Station) -> None:
        self._station = station

    def __call__(self, text: str, **kwargs):
        return self._station.render_text(text, **kwargs)


def _write_or_say(path: Path, text: str) -> None:
    """write_atomic, with a failing disk said as an AudioError (one line) rather than a bare OSError."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp {path}: {exc.strerror or exc}", path=str(path)) from exc


__all__ = ["Station", "RenderOutcome", "init_data_dir", "CRASH_REASON"]
