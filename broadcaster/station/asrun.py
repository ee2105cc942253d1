"""The as-run log: the only writer of as-run rows, and the one "open the card, play, close the row" path.

An as-run row is committed (on_air) before the first sample of an item and closed after its
last. When the database cannot be written (a full disk) rows are held in memory under negative
ids, and written by `flush_pending_rows` once space returns: what is due still airs.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from ..db import as_utc
from ..exceptions import PlayoutError
from ..models import AsRun, AsRunKind, AsRunPublic, AsRunStatus
from ..playout.outcome import Outcome, PlayResult
from .outcomes import as_run_status, reason_text

if TYPE_CHECKING:
    from ..config import Settings
    from ..playout.protocol import PlayerProtocol as Player

log = logging.getLogger(__name__)

CRASH_REASON = "Phần mềm dừng đột ngột khi đang phát (mất điện, tắt máy hoặc lỗi)"


def _db_reason(exc: BaseException) -> str:
    """SQLite's own words for a database error (no SQLAlchemy links or statements)."""
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).splitlines()[0]


class _HeldRows:
    """Rows the database could not take (a full disk), shared by every view of one log."""

    def __init__(self) -> None:
        self.rows: dict[int, AsRun] = {}  # by negative id, oldest = closest to 0
        self.last_id = 0
        self.db_ids: dict[int, int] = {}  # held id -> the database row it closes
        self.flushed: dict[int, int] = {}  # held id -> the id it was written under
        self.lock = threading.RLock()


def _played(result: PlayResult) -> dict[str, Any]:
    """How a play() result closes its row: status and reason made from its outcome (station/outcomes.py),
    started when the first sample was handed to the card, ended when the last was."""
    return {
        "status": as_run_status(result.outcome),
        "reason": reason_text(result),
        "started_at": result.first_sample_at or result.started_at,
        "ended_at": result.ended_at,
    }


class AsRunLog:
    """The as-run rows of one station's database: opened, closed, held back, read."""

    def __init__(self, *, engine: Engine, settings: Settings, clock: Callable[[], datetime]) -> None:
        """engine: the station's database; settings: its time zone (`as_run_log(since=)`); clock: now, UTC."""
        self.db = engine
        self.settings = settings
        self.clock = clock
        self._held = _HeldRows()

    def over_engine(self, engine: Engine) -> AsRunLog:
        """This log through another engine: the same held-back rows, other connections."""
        view = copy.copy(self)
        view.db = engine
        return view

    # ------------------------------------------------------------------ writing
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

    def open_row(self, **fields) -> int:
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

    def _hold_row(self, row: AsRun, db_id: int | None = None) -> int:
        """Keep a row in memory; `db_id` is the database row it completes (written over it later)."""
        held = self._held
        with held.lock:
            held.last_id -= 1
            held.rows[held.last_id] = row
            if db_id is not None:
                held.db_ids[held.last_id] = db_id
            return held.last_id

    def _close_pending(self, row_id: int, **fields) -> AsRunPublic:
        with self._held.lock:
            row = self._held.rows[row_id]
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
        with self._held.lock:
            return [self._held.rows[k] for k in sorted(self._held.rows, reverse=True)]

    def flush_pending_rows(self) -> int:
        """Write the closed rows a full disk held back (each once, oldest first). Returns how many
        were written; rows still on air wait for their end, rows that still cannot be written stay."""
        held = self._held
        with held.lock:
            ready = [k for k in sorted(held.rows, reverse=True) if held.rows[k].status != AsRunStatus.on_air]
            if not ready:
                return 0
            try:
                with Session(self.db) as session:
                    written: dict[int, AsRun] = {}
                    for key in ready:
                        values = held.rows[key].model_dump(exclude={"id"})
                        stored = session.get(AsRun, held.db_ids.get(key, 0))
                        if stored is None:
                            stored = AsRun(**values)
                        else:  # the row committed on_air before the disk filled: close it
                            for name, value in values.items():
                                setattr(stored, name, value)
                        session.add(stored)
                        written[key] = stored
                    session.commit()
                    for key, stored in written.items():
                        held.flushed[key] = stored.id
            except SQLAlchemyError as exc:
                log.warning("%d as-run row(s) still not written: %s", len(ready), _db_reason(exc))
                return 0
            for key in ready:
                del held.rows[key]
                held.db_ids.pop(key, None)
        log.info("wrote %d as-run row(s) held back while the database could not be written", len(ready))
        return len(ready)

    def close_row(self, row_id: int, **fields) -> AsRunPublic:
        """Close (or amend) a row: the given columns, ended_at now unless given, its duration."""
        if row_id < 0:
            with self._held.lock:
                held = row_id in self._held.rows
                row_id = row_id if held else self._held.flushed[row_id]  # written meanwhile: its real id
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
        row_id = self.open_row(title=title, **fields)
        return self.close_row(row_id, status=AsRunStatus.failed, reason=reason)

    def log_alarm(self, *, title: str, reason: str, started_at: datetime | None = None,
                  ended_at: datetime | None = None, **fields) -> AsRunPublic:
        """A fault an officer must hear about (silence on air, a sound-card gap): a closed row with
        status alarm and kind alarm; started_at/ended_at span the fault when it had a length."""
        row_id = self.open_row(title=title, kind=AsRunKind.alarm, **fields)
        times = {k: v for k, v in (("started_at", started_at), ("ended_at", ended_at)) if v is not None}
        return self.close_row(row_id, status=AsRunStatus.alarm, reason=reason, **times)

    # ------------------------------------------------------------------ playing with a row
    def play_with_row(
        self,
        row_id: int,
        player: Player,
        play: Callable[[], PlayResult],
        *,
        what: str,
        error_prefix: str | None = None,
        outcome: Callable[[PlayResult], dict[str, Any]] = _played,
    ) -> tuple[AsRunPublic, Outcome | None]:
        """Open the card if needed, run `play()` and close the row with how it went; never leaves it on_air.

        Returns the closed row and what happened on air (the player's typed outcome; None when
        the player could not be reached at all: the row says why).

        `outcome(result)` gives the columns the row closes with (default: the player's status and
        reason, started when the first sample was handed to the card). A failure closes it failed:
        a PlayoutError with its own words, anything else as "Lỗi phát: …"; with `error_prefix`
        every failure reads "<error_prefix>: …".
        """
        try:
            if not player.is_open:
                player.open()
            result = play()
        except PlayoutError as exc:
            if error_prefix is not None:
                log.exception("playout of %s failed", what)
                return self.close_row(row_id, status=AsRunStatus.failed, reason=f"{error_prefix}: {exc}"), None
            return self.close_row(row_id, status=AsRunStatus.failed, reason=str(exc)), None
        except Exception as exc:  # never leave a row on_air because of an unexpected error
            log.exception("playout of %s failed", what)
            failed = self.close_row(row_id, status=AsRunStatus.failed, reason=f"{error_prefix or 'Lỗi phát'}: {exc}")
            return failed, None
        return self.close_row(row_id, **outcome(result)), result.outcome

    def play_file(self, path: Path, *, player: Player, **fields) -> AsRunPublic:
        """Play one file through the player with its as-run row (the row of play_file_outcome)."""
        return self.play_file_outcome(path, player=player, **fields)[0]

    def play_file_outcome(
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
    ) -> tuple[AsRunPublic, Outcome | None]:
        """Play one file through the player with its as-run row; the row and what happened.

        The row is committed (on_air) before the first sample and closed after the last
        with aired, interrupted or failed and the reason; its start is when the first sample
        was handed to the card. `row_fields` are further as-run columns (kind,
        bulletin_class, requested_at, operator for urgent items).
        """
        path = Path(path)
        row_id = self.open_row(
            title=title or path.name,
            path=str(path),
            bulletin_id=bulletin_id,
            slot=slot,
            engine=engine,
            planned_at=planned_at,
            **row_fields,
        )
        return self.play_with_row(row_id, player, lambda: player.play(path), what=str(path))

    def play_source(self, source, *, player: Player, title: str, **row_fields) -> AsRunPublic:
        """Play a live source (player.play_source: the microphone) with its as-run row, like play_file."""
        row_id = self.open_row(title=title, **row_fields)
        return self.play_with_row(row_id, player, lambda: player.play_source(source, label=title), what=title)[0]

    # ------------------------------------------------------------------ reading
    def as_run_log(self, *, since: date | None = None, limit: int | None = None) -> list[AsRunPublic]:
        """As-run rows, oldest first; `since` is a station-local date."""
        from zoneinfo import ZoneInfo

        with Session(self.db) as session:
            query = select(AsRun).order_by(col(AsRun.started_at), col(AsRun.id))
            if since is not None:
                midnight = datetime(since.year, since.month, since.day, tzinfo=ZoneInfo(self.settings.timezone))
                query = query.where(AsRun.started_at >= midnight.astimezone(timezone.utc))
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


__all__ = ["AsRunLog", "CRASH_REASON"]
