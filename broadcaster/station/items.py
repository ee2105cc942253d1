"""The station's items part: the one renderer (station.renderer.Renderer: text or a recording →
a cached program item) plus what a bulletin's render records in the database (its item file, the
voice that spoke it, or the reason it failed) and the day's renders ahead.

`Items` is built with the settings, the database engine and optionally a synthesizer; it never
sees the station facade.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..exceptions import BroadcasterError
from ..models import BulletinPublic
from . import bulletins
from .bulletin_rows import RenderSource, record_render
from .renderer import RenderOutcome, Renderer, file_digest, normalized_copy

if TYPE_CHECKING:
    from ..config import Settings
    from ..speech.synth import Synthesizer

log = logging.getLogger(__name__)


class Items(Renderer):
    """The renderer of one station, recording a bulletin's render through its database engine."""

    def __init__(self, *, settings: Settings, engine: Engine, synthesizer: Synthesizer | None = None) -> None:
        super().__init__(settings=settings, synthesizer=synthesizer)
        self.engine = engine

    def over_engine(self, engine: Engine) -> Items:
        """The same items (synthesizer, lexicon, cache) recording results through another engine."""
        import copy

        _ = self.synthesizer  # made now, so both views share one synthesizer (and its locks)
        view = copy.copy(self)
        view.engine = engine
        return view

    # --------------------------------------------------------------- bulletins
    def _record(self, bulletin: BulletinPublic, values: dict[str, object]) -> None:
        """The result of rendering `bulletin` as it was read, kept only if it still says the same (an edit
        or a recording committed during the render wins, and its own render stays queued)."""
        with Session(self.engine) as session:
            if record_render(session=session, bulletin_id=bulletin.id, source=RenderSource.of(bulletin),
                             values=values):
                session.commit()
            else:
                log.info("bulletin %s changed during its render: the result is not kept", bulletin.id)

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
        self._record(bulletin, values)
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
        self._record(bulletin, values)
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
