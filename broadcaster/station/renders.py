"""Bulletins rendered in the background (issue 11 item 6): as soon as a bulletin is written, edited
or submitted its program item is made, by one worker thread of the station, never in a web request.

The queue is the database: a bulletin whose `render_state` is "queued" (set in the same transaction
as the change that needs it, station.bulletins) or "rendering" (a render a stopped station did not
finish) is rendered next, so a restart loses nothing (`resume`). The file made is the item the slot
will air (Items.render_text / render_recording: the same cache key, in the bulletin's own voice), so
approving only marks it approved. A result is recorded only when the bulletin still says what was
rendered (bulletin_rows.record_render, one compare-and-set UPDATE): an edit, a recording or a voice
chosen during a render queues the bulletin again and the older render never wins.

Progress (fraction 0..1, rising) is kept in memory for the page that shows it; the state in the
database says whether a render is queued, running, done or failed.

`RenderJobs` is built with the database engine and the items part; it never sees the facade.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .. import accounts
from ..exceptions import BroadcasterError
from ..models import Bulletin
from .bulletin_rows import RENDER_DONE, RENDER_FAILED, RENDER_QUEUED, RENDER_RUNNING, RenderSource, record_render

if TYPE_CHECKING:
    from .items import Items

log = logging.getLogger(__name__)

UNEXPECTED = "Lỗi không mong đợi khi dựng âm thanh; đài sẽ thử lại trước giờ phát."


class RenderJobs:
    """The station's background bulletin renders: one worker thread, started when there is work."""

    def __init__(self, *, engine: Engine, items: Items) -> None:
        self.engine = engine
        self.items = items
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._progress: dict[int, float] = {}

    # ------------------------------------------------------------------ callers
    def wake(self) -> None:
        """Start the worker if it is not running (after a change committed a queued render)."""
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="bulletin-renders", daemon=True)
                self._worker.start()

    def resume(self) -> None:
        """At start-up: render what a previous run queued or left half done."""
        self.wake()

    def ensure(self, bulletin_id: int) -> None:
        """The bulletin has a rendered item of what it says now, or one is queued (a leader approved it)."""
        with Session(self.engine) as session:
            bulletin = session.get(Bulletin, bulletin_id)
            if bulletin is None:
                return
            ready = bulletin.render_state == RENDER_DONE and bulletin.item_path and Path(bulletin.item_path).is_file()
            if not ready and bulletin.render_state not in (RENDER_QUEUED, RENDER_RUNNING):
                bulletin.render_state = RENDER_QUEUED
                session.add(bulletin)
                session.commit()
        self.wake()

    def progress(self, bulletin_id: int) -> float | None:
        """The fraction done of a render under way in this process (None when none is)."""
        return self._progress.get(bulletin_id)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the worker has nothing left (tests, a clean stop); returns whether it finished."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
            return not worker.is_alive()
        return True

    # ------------------------------------------------------------------ worker
    def _next(self) -> tuple[int, RenderSource] | None:
        """Claim the next bulletin to render (an unfinished render first): its id and what to render."""
        with Session(self.engine) as session:
            bulletin = session.exec(
                select(Bulletin).where(col(Bulletin.render_state).in_([RENDER_RUNNING, RENDER_QUEUED]))
                .order_by(col(Bulletin.render_state) == RENDER_QUEUED, col(Bulletin.id))
            ).first()
            if bulletin is None:
                return None
            bulletin.render_state = RENDER_RUNNING
            session.add(bulletin)
            session.commit()
            return bulletin.id, RenderSource.of(bulletin)

    def _run(self) -> None:
        while True:
            try:
                with self._lock:
                    claimed = self._next()
                    if claimed is None:
                        self._worker = None
                        return
                self._render(*claimed)
            except Exception:  # the database gone (the station closing) or busy: the next start resumes
                log.exception("background render stopped")
                with self._lock:
                    self._worker = None
                return

    def _render(self, bulletin_id: int, source: RenderSource) -> None:
        self._progress[bulletin_id] = 0.0

        def report(fraction: float) -> None:
            self._progress[bulletin_id] = fraction

        try:
            if source.recording_path:
                outcome = self.items.render_recording(Path(source.recording_path), progress=report)
            else:
                outcome = self.items.render_text(source.text, voice=source.voice, progress=report)
            values = self.items._item_values(outcome)
        except BroadcasterError as exc:
            log.warning("background render of bulletin %s failed: %s", bulletin_id, exc)
            values = {"render_error": str(exc), "render_state": RENDER_FAILED}
        except Exception:
            log.exception("background render of bulletin %s failed", bulletin_id)
            values = {"render_error": UNEXPECTED, "render_state": RENDER_FAILED}
        finally:
            self._progress.pop(bulletin_id, None)
        self._record(bulletin_id, source, values)

    def _record(self, bulletin_id: int, source: RenderSource, values: dict) -> None:
        """Keep the result only if the bulletin still says what was rendered and nobody queued it again."""
        with Session(self.engine) as session:
            if not record_render(session=session, bulletin_id=bulletin_id, source=source, values=values,
                                 claimed=True):
                return  # changed meanwhile (or removed): its new render is queued
            if values.get("render_state") == RENDER_FAILED:
                accounts.record(session=session, user=None, action="bulletin.render_failed", object_type="bulletin",
                                object_id=bulletin_id, detail=str(values.get("render_error"))[:500])
            session.commit()


__all__ = ["RenderJobs"]
