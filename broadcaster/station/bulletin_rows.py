"""Writes to a bulletin's row that must not lose a change committed meanwhile.

The station engine's driver (pysqlite) runs a SELECT outside any transaction, so "read the row, check
it, write it" lets another connection commit between the read and the write, and the write then
overwrites what it never saw: a speech item over a recording just attached, the old text's item over
an edit (its new render never queued), "scheduled" over a draft, an approval over a text saved a
moment after the leader looked. Each write here closes that gap one of two ways:

- `record_render`, `move_status`: one conditional UPDATE (compare and set) that matches only while the
  row still says what the writer saw; the caller learns whether it was written;
- `for_write`: the row read inside a write transaction (BEGIN IMMEDIATE), for the workflow's changes
  (station.bulletins), which check a status and then change several fields. A second writer waits for
  it (busy_timeout); readers never do (WAL).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col

from ..exceptions import NotFoundError
from ..models import Bulletin, BulletinPublic, BulletinStatus

# a bulletin's background render (Bulletin.render_state; station.renders runs them)
RENDER_QUEUED, RENDER_RUNNING, RENDER_DONE, RENDER_FAILED = "queued", "rendering", "done", "failed"


@dataclass(frozen=True)
class RenderSource:
    """What a render of a bulletin is made from: its result belongs to the bulletin only while the
    bulletin still says this (an edit, a recording or a voice chosen meanwhile makes it stale)."""

    text: str
    recording_path: str | None
    voice: str | None

    @classmethod
    def of(cls, bulletin: Bulletin | BulletinPublic) -> RenderSource:
        return cls(text=bulletin.text, recording_path=bulletin.recording_path, voice=bulletin.voice)


def record_render(*, session: Session, bulletin_id: int, source: RenderSource, values: dict[str, object],
                  claimed: bool = False) -> bool:
    """Write a render's result (item file, engine, voice, state) in one UPDATE that matches only while
    the bulletin still says `source` (and, with `claimed`, is still claimed by the background worker).
    Returns whether it was written; the caller commits."""
    same = [col(Bulletin.id) == bulletin_id, col(Bulletin.text) == source.text]
    for column, value in ((col(Bulletin.recording_path), source.recording_path), (col(Bulletin.voice), source.voice)):
        same.append(column.is_(None) if value is None else column == value)
    if claimed:
        same.append(col(Bulletin.render_state) == RENDER_RUNNING)
    result = session.exec(update(Bulletin).where(*same).values(**values))  # type: ignore[call-overload]
    return result.rowcount == 1


def move_status(*, session: Session, bulletin_ids: Collection[int], was: BulletinStatus | str,
                now: BulletinStatus | str) -> int:
    """Move the bulletins still in status `was` to `now` in one UPDATE; returns how many moved (the
    caller commits). One edited meanwhile (back to draft) is left as it is."""
    if not bulletin_ids:
        return 0
    result = session.exec(update(Bulletin)  # type: ignore[call-overload]
                          .where(col(Bulletin.id).in_(list(bulletin_ids)), col(Bulletin.status) == was)
                          .values(status=now))
    return result.rowcount


def for_write(session: Session, bulletin_id: int) -> Bulletin:
    """The bulletin read inside a write transaction (BEGIN IMMEDIATE unless the session already writes),
    so what a change checks is what it writes over; NotFoundError when there is none."""
    connection = session.connection()
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    bulletin = session.get(Bulletin, bulletin_id, populate_existing=True)  # not the copy read before the lock
    if bulletin is None:
        raise NotFoundError(f"Không có bản tin số {bulletin_id}")
    return bulletin


__all__ = ["RENDER_DONE", "RENDER_FAILED", "RENDER_QUEUED", "RENDER_RUNNING", "RenderSource", "for_write",
           "move_status", "record_render"]
