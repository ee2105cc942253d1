"""The receiver's own as-run log: what it heard (from, to, mount) and every gap with its cause.

Rows go to the `as_run` table of the receiver's data directory, so `broadcaster log --data-dir D`
reads them like the station's: a heard row is kind `relay` (the cluster relays the station), on
air while it lasts and `aired` once it ends; a gap row is kind `alarm`, status `alarm` from its
start, with the cause (one Vietnamese line) as its reason and no end while it lasts. At most one
row is open at a time, always the newest, so every row below the newest open one is final and
can be uploaded (`pending`). A database that cannot be written (a full disk) never stops the
sound: the error is logged and the cluster keeps playing.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from enum import Enum
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from ..localtime import as_utc
from ..models import AsRun, AsRunKind, AsRunStatus

log = logging.getLogger(__name__)

HEARD_TITLE = "Nghe đài"
GAP_TITLE = "Gián đoạn"
CRASH_REASON = "Cụm loa dừng đột ngột khi đang nghe (mất điện, tắt máy hoặc lỗi)"
STATE_FILE = "receiver.json"  # marks a receiver's data directory (cli/log.py reads it that way)
UPLOAD_MAX_ROWS = 500  # the station takes at most this many rows per upload (contract)
HEARD_ROW_MAX_S = 3600.0  # a heard row is split after an hour, so the station sees it within the hour


class GapCause(Enum):
    """Why the cluster heard nothing; `text` is what the log says (the one place these words are made)."""

    LINK_LOST = "link_lost"
    NO_MOUNT = "no_mount"
    STREAM_REFUSED = "stream_refused"
    SILENCE = "silence"
    STATION_REFUSED = "station_refused"
    NO_CONFIG = "no_config"
    NO_STREAM = "no_stream"
    CARD = "card"

    @property
    def text(self) -> str:
        return _CAUSE_TEXT[self]

    @property
    def is_link(self) -> bool:
        """A cause found by trying to reach the stream (it may correct a first guess at a loss)."""
        return self in (GapCause.LINK_LOST, GapCause.NO_MOUNT, GapCause.STREAM_REFUSED)


_CAUSE_TEXT = {
    GapCause.LINK_LOST: "mất kết nối tới máy chủ phát",
    GapCause.NO_MOUNT: "máy chủ phát không có luồng của đài",
    GapCause.STREAM_REFUSED: "máy chủ phát từ chối cụm loa",
    GapCause.SILENCE: "luồng im lặng",
    GapCause.STATION_REFUSED: "đài từ chối mã của cụm loa (mã sai hoặc đã bị thu hồi)",
    GapCause.NO_CONFIG: "chưa liên lạc được với đài để lấy địa chỉ luồng",
    GapCause.NO_STREAM: "đài chưa phát lên máy chủ luồng (chưa đặt stream_url)",
    GapCause.CARD: "không phát được ra card âm thanh của cụm loa",
}


def describe(row) -> tuple[str, str]:
    """(what, cause) of a receiver row for `broadcaster log`: "Đã nghe" / "Đang nghe" / "Bị ngắt" /
    "Gián đoạn", and the cause of a gap (or why a heard row was cut)."""
    if row.kind == AsRunKind.alarm:
        return GAP_TITLE, row.reason or ""
    if row.status == AsRunStatus.on_air:
        return "Đang nghe", ""
    if row.status == AsRunStatus.interrupted:
        return "Bị ngắt", row.reason or ""
    return "Đã nghe", row.reason or ""


def is_receiver_dir(data_dir: Path) -> bool:
    """A data directory a receiver made (it holds the receiver's state file)."""
    return (Path(data_dir) / STATE_FILE).is_file()


class ReceiverJournal:
    """Opens and closes the receiver's heard and gap rows; hands out the final ones for upload."""

    def __init__(self, *, engine: Engine) -> None:
        self.db = engine
        self._lock = threading.Lock()
        self._open_id: int | None = None
        self._open_kind: AsRunKind | None = None
        self._open_cause: GapCause | None = None
        self._provisional = False  # the open gap's cause is a first guess the next attempt may correct

    # ------------------------------------------------------------------ state
    @property
    def open_cause(self) -> GapCause | None:
        """The cause of the gap open now, or None (hearing, or nothing open)."""
        return self._open_cause if self._open_kind is AsRunKind.alarm else None

    @property
    def hearing(self) -> bool:
        return self._open_kind is AsRunKind.relay

    # ------------------------------------------------------------------ writing
    def recover(self) -> int:
        """Rows a crash left open: a heard row becomes interrupted (its end is unknown), a gap keeps its
        cause. Returns how many. Call once at start, before anything else writes."""
        try:
            with Session(self.db) as session:
                rows = session.exec(select(AsRun).where(AsRun.status == AsRunStatus.on_air)).all()
                for row in rows:
                    row.status, row.reason = AsRunStatus.interrupted, CRASH_REASON
                    session.add(row)
                session.commit()
                return len(rows)
        except SQLAlchemyError as exc:
            log.error("receiver log: open rows not recovered: %s", exc)
            return 0

    def heard(self, mount: str, at: datetime) -> None:
        """Sound arrived on `mount` at `at`: the open gap ends there and a heard row starts."""
        with self._lock:
            if self._open_kind is AsRunKind.relay:
                return
            self._close(at)
            self._insert(AsRun(title=HEARD_TITLE, path=mount, kind=AsRunKind.relay, status=AsRunStatus.on_air,
                               started_at=at), AsRunKind.relay)

    def gap(self, cause: GapCause, mount: str | None, at: datetime, *, provisional: bool = False) -> None:
        """Nothing is heard from `at` on because of `cause`. A gap open with another cause: a first
        guess (`provisional`) is corrected in place by what the next attempt at the stream found;
        otherwise it ends and a new gap starts."""
        with self._lock:
            if self._open_kind is AsRunKind.alarm:
                if self._open_cause is cause:
                    self._provisional = self._provisional and provisional
                    return
                if self._provisional and cause.is_link:
                    self._amend(cause, mount)
                    self._provisional = provisional
                    return
            self._close(at)
            self._insert(AsRun(title=GAP_TITLE, path=mount, kind=AsRunKind.alarm, status=AsRunStatus.alarm,
                               reason=cause.text, started_at=at), AsRunKind.alarm, cause)
            self._provisional = provisional

    def split(self, at: datetime, *, longer_than_s: float = HEARD_ROW_MAX_S) -> bool:
        """A heard row open for longer than `longer_than_s` ends at `at` and another starts there, so
        the station gets what a cluster that never breaks heard (uploads take final rows only)."""
        with self._lock:
            if self._open_kind is not AsRunKind.relay or self._open_id is None:
                return False
            try:
                with Session(self.db) as session:
                    row = session.get(AsRun, self._open_id)
                    started, mount = (as_utc(row.started_at), row.path) if row is not None else (None, None)
            except SQLAlchemyError:
                return False
            if started is None or (as_utc(at) - started).total_seconds() < longer_than_s:
                return False
            self._close(at)
            self._insert(AsRun(title=HEARD_TITLE, path=mount, kind=AsRunKind.relay, status=AsRunStatus.on_air,
                               started_at=at), AsRunKind.relay)
            return True

    def end(self, at: datetime) -> None:
        """The receiver stops: whatever is open ends at `at`."""
        with self._lock:
            self._close(at)

    def _insert(self, row: AsRun, kind: AsRunKind, cause: GapCause | None = None) -> None:
        try:
            with Session(self.db) as session:
                session.add(row)
                session.commit()
                self._open_id = row.id
        except SQLAlchemyError as exc:  # a full disk: the sound goes on, the row is lost
            log.error("receiver log: row «%s» not written: %s", row.title, exc)
            self._open_id = None
        self._open_kind, self._open_cause = kind, cause

    def _amend(self, cause: GapCause, mount: str | None) -> None:
        self._open_cause = cause
        if self._open_id is None:
            return
        try:
            with Session(self.db) as session:
                row = session.get(AsRun, self._open_id)
                if row is not None:
                    row.reason, row.path = cause.text, mount or row.path
                    session.add(row)
                    session.commit()
        except SQLAlchemyError as exc:
            log.error("receiver log: gap cause not corrected: %s", exc)

    def _close(self, at: datetime) -> None:
        row_id, kind = self._open_id, self._open_kind
        self._open_id = self._open_kind = self._open_cause = None
        self._provisional = False
        if row_id is None:
            return
        try:
            with Session(self.db) as session:
                row = session.get(AsRun, row_id)
                if row is None:
                    return
                started = as_utc(row.started_at)
                ended = max(as_utc(at), started)
                row.ended_at = ended
                row.duration_s = round((ended - started).total_seconds(), 3)
                if kind is AsRunKind.relay:
                    row.status = AsRunStatus.aired
                session.add(row)
                session.commit()
        except SQLAlchemyError as exc:
            log.error("receiver log: row %s not closed: %s", row_id, exc)

    # ------------------------------------------------------------------ reading
    def pending(self, after: int, limit: int = UPLOAD_MAX_ROWS) -> list[dict]:
        """Final rows with an id above `after`, oldest first, as the station's upload rows (contract)."""
        with self._lock, Session(self.db) as session:  # the lock: never between a row's insert and its id
            open_id = self._open_id
            rows = session.exec(
                select(AsRun).where(col(AsRun.id) > after).order_by(col(AsRun.id)).limit(limit)
            ).all()
        out = []
        for row in rows:
            if row.status == AsRunStatus.on_air or (row.kind == AsRunKind.alarm and row.ended_at is None
                                                    and row.id == open_id):
                break  # the open row and anything after it are not final yet
            if row.kind not in (AsRunKind.relay, AsRunKind.alarm):
                continue  # not a receiver row (a data directory that was a station once)
            out.append({
                "local_id": row.id,
                "started_at": as_utc(row.started_at).isoformat(),
                "ended_at": as_utc(row.ended_at).isoformat() if row.ended_at else None,
                "kind": "heard" if row.kind == AsRunKind.relay else "gap",
                "mount": row.path,
                "cause": (row.reason or None) if row.kind == AsRunKind.alarm or row.reason else None,
            })
        return out


__all__ = ["describe", "CRASH_REASON", "HEARD_ROW_MAX_S", "GAP_TITLE", "GapCause", "HEARD_TITLE", "ReceiverJournal", "STATE_FILE",
           "UPLOAD_MAX_ROWS", "is_receiver_dir"]
