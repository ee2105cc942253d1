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
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from .config import Settings, settings_template
from .db import as_utc, create_schema, make_engine
from .disk import part_file, write_atomic
from .exceptions import AudioError, BroadcasterError, InputError, NotFoundError, PlayoutError
from .localtime import local_midnight_utc
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

if TYPE_CHECKING:
    from .playout.player import Player
    from .scheduling.programme import Programme
    from .scheduling.timetable import Slot, Timetable
    from .speech.synth import SpeechResult, Synthesizer

log = logging.getLogger(__name__)

CRASH_REASON = "Phần mềm dừng đột ngột khi đang phát (mất điện, tắt máy hoặc lỗi)"
# how Player.play words a timeout: for a relay that is the normal end of its set time
RELAY_TIMEOUT_PREFIX = "Quá thời gian phát"
STREAM_SCHEMES = ("http://", "https://", "rtmp://", "rtsp://", "mms://", "mmsh://", "udp://", "srt://")


def is_stream_url(source: str) -> bool:
    """A relay source that is a network stream rather than a file."""
    return source.strip().lower().startswith(STREAM_SCHEMES)


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
        self.clock = clock or utcnow
        self._air_lock = threading.Lock()
        self._lexicon_cache: tuple[float, object] | None = None
        self._pending: dict[int, AsRun] = {}  # as-run rows a full disk held back (see _open_row)
        self._pending_ids = 0
        self._pending_db_ids: dict[int, int] = {}  # held id -> the database row it closes
        self._flushed: dict[int, int] = {}  # held id -> the id it was written under
        self._pending_lock = threading.RLock()

    @classmethod
    def open(cls, settings: Settings, **kwargs) -> Station:
        """Prepare the data directory (idempotent) and return a station on it."""
        init_data_dir(settings)
        return cls(settings, **kwargs)

    def close(self) -> None:
        if self._pending and not self.flush_pending_rows():
            for row in self.pending_rows:  # the disk is still full: the log file keeps what aired
                log.error("as-run row lost (database not writable): %s %s %s %s", row.started_at, row.title,
                          row.status, row.reason or "")
        self.db.dispose()

    def over_engine(self, engine: Engine) -> Station:
        """This station seen through another engine (serve's web console has its own pool): the
        same settings, air gate, locks and caches; only the database connections differ."""
        import copy

        _ = self.air_gate  # made now, so both views share the one gate
        view = copy.copy(self)
        view.db = engine
        return view

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

    # ------------------------------------------------------------------ as-run
    def recover_interrupted(self) -> int:
        """Rows left on_air by a crash become interrupted. Returns how many."""
        with Session(self.db) as session:
            rows = session.exec(select(AsRun).where(AsRun.status == AsRunStatus.on_air)).all()
            for row in rows:
                row.status = AsRunStatus.interrupted
                row.reason = CRASH_REASON
                session.add(row)
            session.commit()
            return len(rows)

    def _open_row(self, **fields) -> int:
        """Commit an on_air row and return its id. When the database cannot be written (a full
        disk) the row is kept in memory under a negative id: what it is about still airs, and the
        row is written by flush_pending_rows once space returns."""
        self.flush_pending_rows()
        try:
            with Session(self.db) as session:
                row = AsRun(status=AsRunStatus.on_air, started_at=self.clock(), **fields)
                session.add(row)
                session.commit()
                return row.id
        except SQLAlchemyError as exc:
            log.error("as-run row «%s» not written (%s); kept until the database can be written",
                      fields.get("title"), _db_reason(exc))
            return self._hold_row(AsRun(status=AsRunStatus.on_air, started_at=self.clock(), **fields))

    # rows the database could not take (a full disk), by their negative id, oldest first
    def _hold_row(self, row: AsRun, db_id: int | None = None) -> int:
        """Keep a row in memory; `db_id` is the database row it completes (written over it later)."""
        with self._pending_lock:
            self._pending_ids -= 1
            self._pending[self._pending_ids] = row
            if db_id is not None:
                self._pending_db_ids[self._pending_ids] = db_id
            return self._pending_ids

    def _close_pending(self, row_id: int, **fields) -> AsRunPublic:
        with self._pending_lock:
            row = self._pending[row_id]
            for key, value in fields.items():
                setattr(row, key, value)
            if row.ended_at is None:
                row.ended_at = self.clock()
            if row.status != AsRunStatus.on_air:
                row.duration_s = round((as_utc(row.ended_at) - as_utc(row.started_at)).total_seconds(), 3)
            public = AsRunPublic.model_validate({**row.model_dump(), "id": row_id})
        self.flush_pending_rows()
        return public

    @property
    def pending_rows(self) -> list[AsRun]:
        """As-run rows not yet written (the database could not be written), oldest first."""
        with self._pending_lock:
            return [self._pending[k] for k in sorted(self._pending, reverse=True)]

    def flush_pending_rows(self) -> int:
        """Write the closed rows a full disk held back (each once, oldest first). Returns how many
        were written; rows still on air wait for their end, rows that still cannot be written stay."""
        with self._pending_lock:
            ready = [k for k in sorted(self._pending, reverse=True) if self._pending[k].status != AsRunStatus.on_air]
            if not ready:
                return 0
            try:
                with Session(self.db) as session:
                    written: dict[int, AsRun] = {}
                    for key in ready:
                        values = self._pending[key].model_dump(exclude={"id"})
                        stored = session.get(AsRun, self._pending_db_ids.get(key, 0))
                        if stored is None:
                            stored = AsRun(**values)
                        else:  # the row committed on_air before the disk filled: close it
                            for name, value in values.items():
                                setattr(stored, name, value)
                        session.add(stored)
                        written[key] = stored
                    session.commit()
                    for key, stored in written.items():
                        self._flushed[key] = stored.id
            except SQLAlchemyError as exc:
                log.warning("%d as-run row(s) still not written: %s", len(ready), _db_reason(exc))
                return 0
            for key in ready:
                del self._pending[key]
                self._pending_db_ids.pop(key, None)
        log.info("wrote %d as-run row(s) held back while the database could not be written", len(ready))
        return len(ready)

    def _close_row(self, row_id: int, **fields) -> AsRunPublic:
        if row_id < 0:
            with self._pending_lock:
                held = row_id in self._pending
                row_id = row_id if held else self._flushed[row_id]  # written meanwhile: its real id
            if held:
                return self._close_pending(row_id, **fields)
        try:
            return self._close_db_row(row_id, **fields)
        except SQLAlchemyError as exc:
            # the row stays on_air in the database (recovered as interrupted at the next start);
            # its outcome is written as a row of its own once the disk allows
            log.error("as-run row %s not closed (%s); its outcome is kept until it can be written", row_id,
                      _db_reason(exc))
            held = AsRun(status=AsRunStatus.on_air, started_at=self.clock(), title=f"Mục nhật ký số {row_id}")
            try:
                with Session(self.db) as session:
                    stored = session.get(AsRun, row_id)
                    if stored is not None:
                        held = AsRun(**stored.model_dump(exclude={"id"}))
            except SQLAlchemyError:
                pass
            return self._close_pending(self._hold_row(held, db_id=row_id), **fields)

    def _close_db_row(self, row_id: int, **fields) -> AsRunPublic:
        with Session(self.db) as session:
            row = session.get(AsRun, row_id)
            for key, value in fields.items():
                setattr(row, key, value)
            if row.ended_at is None:
                row.ended_at = self.clock()
            started, ended = as_utc(row.started_at), as_utc(row.ended_at)
            row.duration_s = round((ended - started).total_seconds(), 3)
            session.add(row)
            session.commit()
            session.refresh(row)
            return AsRunPublic.model_validate(row)

    def log_failure(self, *, title: str, reason: str, **fields) -> AsRunPublic:
        """A due item that could not start: a closed row with status failed and the reason."""
        row_id = self._open_row(title=title, **fields)
        return self._close_row(row_id, status=AsRunStatus.failed, reason=reason)

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
        """Play one file through the player with its as-run row.

        The row is committed (on_air) before the first sample and closed after the last
        with aired, interrupted or failed and the reason; its start is when the first sample
        was handed to the card. `row_fields` are further as-run columns (kind,
        bulletin_class, requested_at, operator for urgent items).
        """
        path = Path(path)
        row_id = self._open_row(
            title=title or path.name,
            path=str(path),
            bulletin_id=bulletin_id,
            slot=slot,
            engine=engine,
            planned_at=planned_at,
            **row_fields,
        )
        return self._play_with_row(row_id, player, lambda: player.play(path), what=str(path))

    def _play_with_row(self, row_id: int, player: Player, play, *, what: str) -> AsRunPublic:
        """Open the card if needed, run `play()` and close the row with how it went; never leaves it on_air.

        The row's start becomes the moment the first sample was handed to the card.
        """
        try:
            if not player.is_open:
                player.open()
            result = play()
        except PlayoutError as exc:
            return self._close_row(row_id, status=AsRunStatus.failed, reason=str(exc))
        except Exception as exc:  # never leave a row on_air because of an unexpected error
            log.exception("playout of %s failed", what)
            return self._close_row(row_id, status=AsRunStatus.failed, reason=f"Lỗi phát: {exc}")
        return self._close_row(
            row_id,
            status=AsRunStatus(result.status),
            reason=result.reason,
            started_at=getattr(result, "first_sample_at", None) or result.started_at,
            ended_at=result.ended_at,
        )

    def as_run_log(self, *, since: date | None = None, limit: int | None = None) -> list[AsRunPublic]:
        """As-run rows, oldest first; `since` is a station-local date."""
        with Session(self.db) as session:
            query = select(AsRun).order_by(col(AsRun.started_at), col(AsRun.id))
            if since is not None:
                query = query.where(AsRun.started_at >= self.local_midnight_utc(since))
            if limit:
                query = query.limit(limit)
            rows = session.exec(query).all()
            out = []
            for row in rows:
                public = AsRunPublic.model_validate(row)
                public.started_at = as_utc(public.started_at)
                public.ended_at = as_utc(public.ended_at)
                public.planned_at = as_utc(public.planned_at)
                out.append(public)
            return out

    # ------------------------------------------------------------------- time
    @property
    def tz(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.timezone)

    def local_midnight_utc(self, day: date) -> datetime:
        return local_midnight_utc(day, self.tz)

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
        from .scheduling import store

        with Session(self.db) as session:
            return store.read_timetable(session=session, timezone_name=self.settings.timezone)

    def _as_slot(self, slot: Slot | str, planned_at: datetime) -> Slot:
        # the original API named the slot: look the name up; an unknown name has no length limit
        from .scheduling.timetable import Slot

        if isinstance(slot, Slot):
            return slot
        found = self.timetable().slot_named(str(slot))
        if found is not None:
            return found
        local = planned_at.astimezone(self.tz)
        return Slot(name=str(slot), at=local.time().replace(second=0, microsecond=0), max_minutes=24 * 60)

    def programme(self, *, slot: Slot | str, planned_at: datetime) -> Programme:
        """What one slot occurrence airs: items in order, the overflow for the next slot, the total length."""
        from .scheduling import store
        from .scheduling.programme import build_programme

        slot = self._as_slot(slot, planned_at)
        with Session(self.db) as session:
            candidates = store.candidates(session=session, slot_name=slot.name, planned_at=planned_at)
            timetable = store.read_timetable(session=session, timezone_name=self.settings.timezone)
        following = timetable.next_slot(planned_at, include_relay=False)
        return build_programme(
            slot=slot,
            day=planned_at.astimezone(self.tz).date(),
            bulletins=candidates,
            next_slot=(following[0].name, following[1]) if following else None,
        )

    def prerender_slot(self, *, slot: Slot | str, planned_at: datetime) -> Programme:
        """Render ahead everything a slot occurrence will air (and its overflow).

        A failure is recorded on the bulletin (render_error), so it shows long before air;
        items ready to air become `scheduled`. A relay's file is converted ahead too.
        """
        slot = self._as_slot(slot, planned_at)
        if slot.is_relay:
            if slot.source and not is_stream_url(slot.source):
                try:
                    self.relay_file(slot)
                except BroadcasterError as exc:
                    log.warning("relay %s cannot be prepared: %s", slot.name, exc)
            return self.programme(slot=slot, planned_at=planned_at)
        programme = self.programme(slot=slot, planned_at=planned_at)
        for bulletin_id in [i.bulletin_id for i in programme.items] + [d.bulletin_id for d in programme.overflow]:
            bulletin = self.get_bulletin(bulletin_id)
            if not bulletin.item_path or not Path(bulletin.item_path).is_file():
                self.prepare_bulletin(bulletin_id)
        programme = self.programme(slot=slot, planned_at=planned_at)
        self._mark_scheduled({i.bulletin_id for i in programme.items if i.problem is None})
        return programme

    def _mark_scheduled(self, bulletin_ids: set[int]) -> None:
        # approved → scheduled once placed in a slot; then aired/expired where the facts say so
        with Session(self.db) as session:
            for bulletin_id in bulletin_ids:
                row = session.get(Bulletin, bulletin_id)
                if row is not None and row.status == BulletinStatus.approved:
                    row.status = BulletinStatus.scheduled
                    session.add(row)
            session.commit()
        self.refresh_statuses()

    def refresh_statuses(self) -> int:
        """Bring stored statuses in line with the as-run log and the calendar (aired, expired).

        Returns how many changed.
        """
        from .scheduling import store
        from .scheduling.programme import derive_status

        today = self.local_today()
        changed = 0
        with Session(self.db) as session:
            rows = store.live_or_finished_bulletins(session=session)
            counts = store.airing_counts(session=session, bulletin_ids=[b.id for b in rows])
            for row in rows:
                status = derive_status(
                    status=row.status,
                    frequency=row.frequency,
                    times=row.times,
                    valid_until=row.valid_until,
                    aired_count=counts[row.id],
                    today=today,
                )
                if status != row.status:
                    row.status = status
                    session.add(row)
                    changed += 1
            session.commit()
        return changed

    def slot_handled(self, *, slot: Slot | str, planned_at: datetime) -> bool:
        """Whether a slot occurrence already has as-run rows (of any status): it never airs twice."""
        from .scheduling import store

        name = getattr(slot, "name", None) or str(slot)
        planned_utc = planned_at.astimezone(timezone.utc)
        if any(r.slot == name and as_utc(r.planned_at) == planned_utc for r in self.pending_rows):
            return True  # aired while the disk was full: its rows wait to be written
        with Session(self.db) as session:
            return bool(store.occurrence_rows(session=session, slot_name=name, planned_at=planned_at))

    def log_missed(
        self, *, slot: Slot | str, planned_at: datetime, reason: str, status: AsRunStatus = AsRunStatus.missed
    ) -> list[AsRunPublic]:
        """A slot occurrence that did not air: a closed row per item it would have aired (one
        for the slot when it had none), with the reason. `status` failed when it was due but
        could not air (no sound card), missed when the PC was off or busy."""
        slot = self._as_slot(slot, planned_at)
        programme = self.programme(slot=slot, planned_at=planned_at)
        planned_utc = planned_at.astimezone(timezone.utc)
        if programme.relay is not None:
            entries = [(f"Tiếp sóng: {slot.name}", None, programme.relay.source)]
        else:
            entries = [(item.title, item.bulletin_id, item.item_path) for item in programme.items]
        if not entries:
            entries = [(f"Khung giờ {slot.name}", None, None)]
        rows = []
        for title, bulletin_id, path in entries:
            row_id = self._open_row(title=title, bulletin_id=bulletin_id, path=path, slot=slot.name, planned_at=planned_utc)
            rows.append(self._close_row(row_id, status=AsRunStatus(status), reason=reason))
        return rows

    def relay_file(self, slot: Slot) -> Path:
        """The WAV a file relay plays: the file itself when it is 16-bit PCM at the output rate,
        else a copy converted once into the cache. NotFoundError/AudioError say why not."""
        import wave

        from .media import decode, write_wav
        from .sources import check_relay_source

        # inside the media folder, not a station file, and audio (ffmpeg decodes its start)
        # before anything in this process opens it: see sources.py for why that order matters
        source = check_relay_source(slot.source or "", self.settings)
        if not isinstance(source, Path):
            raise InputError(f"Nguồn tiếp sóng {source} là luồng, không phải tệp")
        rate = self.settings.sample_rate
        try:
            with wave.open(str(source), "rb") as wav:
                if wav.getsampwidth() == 2 and wav.getframerate() == rate and wav.getcomptype() == "NONE":
                    return source
        except (wave.Error, EOFError, OSError):
            pass  # MP3, M4A…: convert
        stat = source.stat()
        key = hashlib.sha256(f"{source.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{rate}|{slot.length_s}".encode())
        out = self.settings.cache_dir / "relay" / f"{key.hexdigest()[:32]}.wav"
        if not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            samples = decode(source, sample_rate=rate, channels=1)[: int(rate * slot.length_s)]
            write_wav(out, samples, sample_rate=rate)  # whole or not at all (media.write_wav)
        return out

    def _air_relay(self, *, slot: Slot, planned_at: datetime, player: Player, note: str | None) -> AsRunPublic:
        from datetime import timedelta

        from .models import AsRunKind

        fields = {
            "title": f"Tiếp sóng: {slot.name}",
            "path": slot.source,
            "slot": slot.name,
            "planned_at": planned_at,
            "kind": AsRunKind.relay,
        }
        remaining = (planned_at + timedelta(seconds=slot.length_s) - self.clock()).total_seconds()
        if remaining <= 0:
            return self.log_failure(reason="Đã quá giờ kết thúc tiếp sóng", **fields)
        source = slot.source or ""
        if is_stream_url(source):
            from .sources import check_stream_url

            try:
                check_stream_url(source)  # an older database may hold rtsp://, file:…
            except BroadcasterError as exc:
                return self.log_failure(reason=str(exc), **fields)
            play_stream = getattr(player, "play_stream", None)
            if play_stream is None:
                return self.log_failure(reason="Trình phát chưa hỗ trợ tiếp sóng luồng (URL)", **fields)

            def play():
                return play_stream(source, duration_s=remaining)
        else:
            try:
                path = self.relay_file(slot)
            except BroadcasterError as exc:
                return self.log_failure(reason=str(exc), **fields)

            def play():
                return player.play(path, timeout=remaining)
        row_id = self._open_row(**fields)
        try:
            if not player.is_open:
                player.open()
            result = play()
        except Exception as exc:  # never leave a row on_air
            log.exception("relay %s failed", slot.name)
            return self._close_row(row_id, status=AsRunStatus.failed, reason=f"Lỗi tiếp sóng: {exc}")
        status, reason = result.status, result.reason
        if status == "interrupted" and (reason or "").startswith(RELAY_TIMEOUT_PREFIX):
            status, reason = "aired", None  # a relay ends when its set time is over
        if status == "aired" and note and not reason:
            reason = note
        return self._close_row(
            row_id, status=AsRunStatus(status), reason=reason, started_at=result.started_at, ended_at=result.ended_at
        )

    def air_slot(self, *, slot: Slot | str, planned_at: datetime, player: Player) -> list[AsRunPublic]:
        """Air one slot occurrence: its programme in order, each item with its as-run row.

        Items without a usable file get a last render attempt (cache or offline engine);
        what does not fit gets a `deferred` row ("chuyển sang khung sau") and airs in the
        next slot; a relay slot plays its source until its set time is over. A slot that
        starts a minute or more late says so in the rows' reason.
        """
        with self._air_lock:
            slot = self._as_slot(slot, planned_at)
            planned_utc = planned_at.astimezone(timezone.utc)
            late_s = (self.clock() - planned_utc).total_seconds()
            note = f"Phát muộn {late_s / 60:.0f} phút so với giờ phát" if late_s >= 60 else None
            if slot.is_relay:
                return self._air_relay_gated(slot=slot, planned_at=planned_utc, player=player, note=note)
            programme = self.programme(slot=slot, planned_at=planned_at)
            if any(item.problem for item in programme.items):
                for item in programme.items:
                    if item.problem:
                        # offline only: air time never waits on the network (a hanging gTTS)
                        try:
                            self.prepare_bulletin_offline(item.bulletin_id)
                        except SQLAlchemyError as exc:  # a full disk: the rest of the slot still airs
                            log.error("bulletin %s: render result not stored: %s", item.bulletin_id, _db_reason(exc))
                programme = self.programme(slot=slot, planned_at=planned_at)
            rows: list[AsRunPublic] = []
            # urgent announcements take the player between items (see urgent.AirGate)
            gate = self.air_gate
            items = list(programme.items)
            gate.begin_slot(slot.name, [i.title for i in items])
            index = 0
            try:
                while index < len(items):
                    item = items[index]
                    gate.upcoming = [i.title for i in items[index + 1 :]]
                    if item.problem:
                        rows.append(
                            self.log_failure(
                                title=item.title,
                                bulletin_id=item.bulletin_id,
                                slot=slot.name,
                                planned_at=planned_utc,
                                reason=item.problem,
                            )
                        )
                        index += 1
                        continue
                    gate.enter_item()
                    try:
                        row = self.play_file(
                            Path(item.item_path),
                            player=player,
                            title=item.title,
                            bulletin_id=item.bulletin_id,
                            slot=slot.name,
                            engine=item.engine,
                            planned_at=planned_utc,
                            bulletin_class=item.bulletin_class,
                        )
                    finally:
                        gate.leave_item()
                    if note and row.status == AsRunStatus.aired and not row.reason:
                        row = self._close_row(row.id, reason=note)
                    rows.append(row)
                    if _silent_on_air(row):  # dead air: alarm, filler, then the next item
                        gate.enter_item()  # an urgent announcement may cut the filler too
                        try:
                            rows += self.silence_fallback(player=player, slot=slot.name, planned_at=planned_utc, reason=row.reason)
                        finally:
                            gate.leave_item()
                    if _cut_for_urgent(row):
                        gate.wait_clear()
                        if self.settings.urgent_resume == "resume" and not gate.take_stop_programme():
                            continue  # the same item again from its start, with a row of its own
                        rows += self._drop_rest(items[index + 1 :], slot=slot.name, planned_at=planned_utc, urgent=True)
                        break
                    if gate.take_stop_programme():
                        rows += self._drop_rest(items[index + 1 :], slot=slot.name, planned_at=planned_utc, urgent=False)
                        break
                    index += 1
            finally:
                gate.end_slot()
            for deferred in programme.overflow:
                log.info("%s: «%s» %s", slot.name, deferred.title, deferred.reason)
                row_id = self._open_row(
                    title=deferred.title, bulletin_id=deferred.bulletin_id, slot=slot.name, planned_at=planned_utc
                )
                rows.append(self._close_row(row_id, status=AsRunStatus.deferred, reason=deferred.reason))
            try:
                self._mark_scheduled({r.bulletin_id for r in rows if r.status == AsRunStatus.aired and r.bulletin_id})
            except SQLAlchemyError as exc:  # a full disk: statuses follow the rows once they are written
                log.error("bulletin statuses not updated after %s: %s", slot.name, _db_reason(exc))
            return rows

    # ------------------------------------------------------------------ urgent
    @property
    def air_gate(self):
        """The turn-taking between the slot loop and urgent announcements (urgent.AirGate), one per station."""
        gate = self.__dict__.get("_air_gate")
        if gate is None:
            from .urgent import AirGate

            gate = self.__dict__.setdefault("_air_gate", AirGate())  # setdefault: two first callers get one gate
        return gate

    def _drop_rest(self, items, *, slot: str, planned_at: datetime, urgent: bool) -> list[AsRunPublic]:
        """Rows (missed, with the reason) for programme items dropped after an urgent cut-in or a stop."""
        from .urgent import DROPPED_REASON, STOP_PROGRAMME_REASON

        reason = DROPPED_REASON if urgent else STOP_PROGRAMME_REASON
        rows = []
        for item in items:
            row_id = self._open_row(
                title=item.title, bulletin_id=item.bulletin_id, path=item.item_path, slot=slot, planned_at=planned_at
            )
            rows.append(self._close_row(row_id, status=AsRunStatus.missed, reason=reason))
        return rows

    def _air_relay_gated(self, *, slot: Slot, planned_at: datetime, player: Player, note: str | None) -> list[AsRunPublic]:
        """A relay slot under the urgent gate: cut by an urgent announcement, it goes on for the
        rest of its set time afterwards (or stops, when urgent_resume is drop)."""
        from datetime import timedelta

        gate = self.air_gate
        gate.begin_slot(slot.name, [])
        rows: list[AsRunPublic] = []
        try:
            while True:
                gate.enter_item()
                try:
                    row = self._air_relay(slot=slot, planned_at=planned_at, player=player, note=note)
                finally:
                    gate.leave_item()
                rows.append(row)
                if not _cut_for_urgent(row):
                    break
                gate.wait_clear()
                if self.settings.urgent_resume != "resume":
                    break
                if planned_at + timedelta(seconds=slot.length_s) <= self.clock():
                    break  # the urgent announcement outlasted the relay's set time
        finally:
            gate.end_slot()
        return rows

    def play_source(self, source, *, player: Player, title: str, **row_fields) -> AsRunPublic:
        """Play a live source (player.play_source: the microphone) with its as-run row, like play_file."""
        row_id = self._open_row(title=title, **row_fields)
        return self._play_with_row(row_id, player, lambda: player.play_source(source, label=title), what=title)

    def on_air_row(self) -> AsRunPublic | None:
        """The as-run row on air now (the latest still open), or None."""
        with Session(self.db) as session:
            row = session.exec(
                select(AsRun).where(AsRun.status == AsRunStatus.on_air).order_by(col(AsRun.id).desc()).limit(1)
            ).first()
            if row is None:
                return None
            public = AsRunPublic.model_validate(row)
            public.started_at = as_utc(public.started_at)
            public.requested_at = as_utc(public.requested_at)
            return public

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
        """A fault an officer must hear about (silence on air, a sound-card gap): a closed row with
        status alarm and kind alarm; started_at/ended_at span the fault when it had a length."""
        from .models import AsRunKind

        row_id = self._open_row(title=title, kind=AsRunKind.alarm, **fields)
        times = {k: v for k, v in (("started_at", started_at), ("ended_at", ended_at)) if v is not None}
        return self._close_row(row_id, status=AsRunStatus.alarm, reason=reason, **times)

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
        """After dead air: an alarm row with the reason, then the station filler (its own row,
        kind filler). Returns both rows; the caller goes on with the next item."""
        from .models import AsRunKind

        fields = {"slot": slot, "planned_at": planned_at}
        alarm = self.log_alarm(title="Cảnh báo: im lặng trên sóng", reason=reason or "Im lặng trên sóng", **fields)
        log.warning("%s: %s; airing the filler", slot, alarm.reason)
        title = "Nhạc đệm (sau sự cố im lặng)"
        try:
            path = self.filler_path()
        except BroadcasterError as exc:
            return [alarm, self.log_failure(title=title, reason=str(exc), kind=AsRunKind.filler, **fields)]
        row_id = self._open_row(title=title, path=str(path), kind=AsRunKind.filler, **fields)
        try:
            if not player.is_open:
                player.open()
            result = player.play(path)
        except Exception as exc:  # never leave a row on_air
            log.exception("filler failed")
            return [alarm, self._close_row(row_id, status=AsRunStatus.failed, reason=f"Lỗi phát: {exc}")]
        filler = self._close_row(
            row_id, status=AsRunStatus(result.status), reason=result.reason,
            started_at=result.started_at, ended_at=result.ended_at,
        )
        return [alarm, filler]


def _write_or_say(path: Path, text: str) -> None:
    """write_atomic, with a failing disk said as an AudioError (one line) rather than a bare OSError."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp {path}: {exc.strerror or exc}", path=str(path)) from exc


def _db_reason(exc: BaseException) -> str:
    """SQLite's own words for a database error (no SQLAlchemy links or statements)."""
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).splitlines()[0]


def _silent_on_air(row: AsRunPublic) -> bool:
    from .playout.player import SILENCE_PREFIX

    return row.status == AsRunStatus.failed and (row.reason or "").startswith(SILENCE_PREFIX)


def _cut_for_urgent(row: AsRunPublic) -> bool:
    from .urgent import URGENT_CUT_REASON

    return row.status == AsRunStatus.interrupted and row.reason == URGENT_CUT_REASON


__all__ = ["Station", "RenderOutcome", "init_data_dir", "CRASH_REASON"]
