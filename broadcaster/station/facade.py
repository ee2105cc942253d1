"""The station facade: the one front the CLI, the web console and `serve` call.

It only wires the station's parts (station/: bulletins, items, asrun, slots, gate, urgent) and
delegates to them, one line per method; no part imports it or is handed it. Every dependency
(settings, database engine, synthesizer, player, clock) is passed in or built from settings, so
tests can swap the boundary they cannot reach.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from ..config import Settings, settings_template
from ..db import create_schema, make_engine
from ..disk import write_atomic
from ..localtime import local_midnight_utc
from ..models import (
    AsRun,
    AsRunPublic,
    AsRunStatus,
    BulletinClass,
    BulletinPublic,
    utcnow,
)
from .asrun import CRASH_REASON, AsRunLog
from .bulletins import Bulletins
from .gate import AirGate
from .items import Items, RenderOutcome
from .receiver_watch import ReceiverWatch
from .receivers import Receivers
from .renders import RenderJobs
from .slots import SlotAirer

if TYPE_CHECKING:
    from ..playout.protocol import PlayerProtocol as Player
    from ..scheduling.programme import Programme
    from ..scheduling.timetable import Slot, Timetable
    from ..speech.synth import SpeechResult, Synthesizer
    from ..speech.voices import Voice
    from .runtime import OnAir
    from .urgent import UrgentDesk

log = logging.getLogger(__name__)


def init_data_dir(settings: Settings) -> list[str]:
    """Create the data directory, cache, settings file and database. Idempotent.

    Returns what was created this time (empty when everything already existed).
    """
    from ..backup import guard_database, mark_station, private_database, private_dir

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
        from ..scheduling.store import ensure_timetable

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
        self._clock = clock or utcnow
        # text → item: the bulletin service and the item cache, built with what they need (never the facade)
        self.items = Items(settings=settings, engine=self.db, synthesizer=synthesizer)
        self.bulletins = Bulletins(engine=self.db, settings=settings, items=self.items, clock=lambda: self.clock())
        # bulletins rendered in the background as soon as they are written (issue 11 item 6); views share it
        self.renders = RenderJobs(engine=self.db, items=self.items)
        # air path: the parts, each built with its collaborators
        self.asrun = AsRunLog(engine=self.db, settings=settings, clock=self._clock)
        self.air_gate = AirGate()  # turn-taking between the slot loop and the urgent desk, one per station
        self.slots = SlotAirer(settings=settings, engine=self.db, clock=self._clock, asrun=self.asrun,
                               gate=self.air_gate, items=self.items)
        # loudspeaker clusters (issue 14): registry, their reports and logs; the watch over their links
        self.receivers = Receivers(engine=self.db, settings=settings, clock=lambda: self.clock())
        self.receiver_watch = ReceiverWatch(engine=self.db, settings=settings, clock=lambda: self.clock(),
                                            alarms=self.asrun)

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
        # text → item: the same parts, recording through the view's engine
        view.items = self.items.over_engine(engine)
        view.bulletins = self.bulletins.over_engine(engine, view.items)
        # air path: the same gate, held-back rows and slot lock; the view's own connections
        view.asrun = self.asrun.over_engine(engine)
        view.slots = self.slots.over_engine(engine, asrun=view.asrun, items=view.items)
        view.receivers = self.receivers.over_engine(engine)
        view.receiver_watch = self.receiver_watch.over_engine(engine, alarms=view.asrun)
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

    # ------------------------------------------------------------------ speech (text → item: station.items)
    def lexicon(self):
        """The effective lexicon (built-in + the station's file), reloaded when the file changes."""
        return self.items.lexicon()

    def normalize(self, text: str) -> str:
        """What will be said for this text (the one normalization entry point + lexicon)."""
        return self.items.normalize(text)

    @property
    def synthesizer(self) -> Synthesizer:
        return self.items.synthesizer

    def speak(self, text: str, *, engine: str | None = None, voice: str | None = None) -> SpeechResult:
        """Synthesize (or fetch from the cache) the speech for a text."""
        return self.items.speak(text, engine=engine, voice=voice)

    def voices(self) -> list[Voice]:
        """Every voice installed here (engine:voice ids with their labels)."""
        return self.items.voices()

    # ------------------------------------------------------------------- audio
    def _item_key(self, speech_path: Path, jingles: bool) -> str:
        return self.items.item_key(speech_path, jingles)

    def render_text(
        self, text: str, *, out: Path | None = None, engine: str | None = None, jingles: bool = True,
        space_check: bool = True, voice: str | None = None, progress=None,
    ) -> RenderOutcome:
        """Text → speech → program item (jingles, loudness); see station.renderer.Renderer.render_text."""
        return self.items.render_text(text, out=out, engine=engine, jingles=jingles, space_check=space_check,
                                      voice=voice, progress=progress)

    # --------------------------------------------------------------- bulletins (text → item: station.bulletins)
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
        recording: Path | None = None,
        voice: str | None = None,
    ) -> BulletinPublic:
        """Store a new bulletin (draft, or with `approve` submitted, approved and rendered ahead).

        frequency: every_slot, n_times (with `times`) or chosen_slots (with `slot_names`);
        `recording`: an officer's recording file that airs instead of synthesized speech.
        voice: engine:voice it is read in (an installed one; None = the station's default).
        """
        return self.bulletins.add(title=title, text=text, approve=approve, bulletin_class=bulletin_class,
                                  valid_from=valid_from, valid_until=valid_until, frequency=frequency,
                                  times=times, slot_names=slot_names, recording=recording, voice=voice)

    def get_bulletin(self, bulletin_id: int) -> BulletinPublic:
        return self.bulletins.get(bulletin_id)

    def list_bulletins(self) -> list[BulletinPublic]:
        return self.bulletins.list()

    def approve(self, *, bulletin_id: int, by: str | None = None) -> BulletinPublic:
        """Approve a draft or submitted bulletin (a draft is submitted first: both audit rows) and
        render it ahead; a render failure is recorded, not raised. `by`: None from the CLI."""
        return self.bulletins.approve(bulletin_id=bulletin_id, by=by, submit_draft=True)

    def prepare_bulletin(self, bulletin_id: int) -> BulletinPublic:
        """Render a bulletin's program item ahead of air; remember the file or the reason it failed."""
        return self.items.prepare_bulletin(bulletin_id)

    def render_recording(self, recording: Path, *, out: Path | None = None, jingles: bool = True,
                         progress=None) -> RenderOutcome:
        """An officer's recording (MP3/WAV/M4A) → program item (jingles, loudness), cached by content;
        copied to `out` if given."""
        return self.items.render_recording(recording, out=out, jingles=jingles, progress=progress)

    def due_bulletins(self, day: date) -> list[BulletinPublic]:
        """Approved bulletins valid on a station-local day, in airing order (ưu tiên first, then by approval)."""
        return self.bulletins.due(day)

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

    def play_file(self, path: Path, *, player: Player, **fields) -> AsRunPublic:
        """Play one file through the player with its as-run row (see AsRunLog.play_file_outcome)."""
        return self.asrun.play_file(path, player=player, **fields)

    def as_run_log(self, *, since: date | None = None, limit: int | None = None) -> list[AsRunPublic]:
        """As-run rows, oldest first; `since` is a station-local date."""
        return self.asrun.as_run_log(since=since, limit=limit)

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
        return self.items.prerender_due(day)

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
        say, mic_factory). The typed message's audio comes from the items part."""
        from .urgent import UrgentDesk
        from .urgent_audio import prepare_attention_tone
        from .urgent_voice import FastVoice, wav_seconds

        # typed text: Piper when it is installed and ready within the attention tone, else espeak-ng
        fast = FastVoice(render_text=self.items.render_text, built=lambda: list(self.items.synthesizer.engines),
                         tone_seconds=lambda: wav_seconds(prepare_attention_tone(self.settings)))
        return UrgentDesk(settings=self.settings, asrun=self.asrun, render_text=fast,
                          player=player, gate=self.air_gate, **kwargs)

    def on_air(self, **kwargs) -> OnAir:
        """What `serve` runs, built from this station's parts (kwargs: see station.runtime.OnAir)."""
        from functools import partial

        from .runtime import OnAir
        from .urgent import UrgentDesk
        from .urgent_zones import known_zones

        desk = partial(UrgentDesk, settings=self.settings, asrun=self.asrun, render_text=self.items.render_text,
                       gate=self.air_gate,  # as urgent_desk builds it, without calling back into the facade
                       known_zones=partial(known_zones, self.db))  # the receivers' zones (issue 14)
        kwargs.setdefault("slot_start", self.receiver_watch.alarm_offline)  # clusters offline at a slot's start
        kwargs.setdefault("watch", self.receiver_watch.watch)  # a cluster's link lost and back, in the log
        return OnAir(settings=self.settings, engine=self.db, asrun=self.asrun, slots=self.slots, items=self.items,
                     gate=self.air_gate, urgent_desk=desk, **kwargs)

    def play_source(self, source, *, player: Player, title: str, **row_fields) -> AsRunPublic:
        """Play a live source (player.play_source: the microphone) with its as-run row, like play_file."""
        return self.asrun.play_source(source, player=player, title=title, **row_fields)

    def on_air_row(self) -> AsRunPublic | None:
        """The as-run row on air now (the latest still open), or None."""
        return self.asrun.on_air_row()

    # ------------------------------------------------------------------ faults
    def prepare_bulletin_offline(self, bulletin_id: int) -> BulletinPublic:
        """The last render attempt at air time: offline engines only (see Items.prepare_bulletin_offline)."""
        return self.items.prepare_bulletin_offline(bulletin_id)

    def log_alarm(self, *, title: str, reason: str, started_at: datetime | None = None,
                  ended_at: datetime | None = None, **fields) -> AsRunPublic:
        """A fault an officer must hear about: a closed row with status alarm (see AsRunLog.log_alarm)."""
        return self.asrun.log_alarm(title=title, reason=reason, started_at=started_at, ended_at=ended_at, **fields)

    def filler_path(self) -> Path:
        """The station filler as a 16-bit WAV at the output rate (see Items.filler_path)."""
        return self.items.filler_path()

    def silence_fallback(self, *, player: Player, slot: str | None, planned_at: datetime | None,
                         reason: str | None) -> list[AsRunPublic]:
        """After dead air: an alarm row with the reason, then the station filler (its own row)."""
        return self.slots.silence_fallback(player=player, slot=slot, planned_at=planned_at, reason=reason)



__all__ = ["Station", "RenderOutcome", "init_data_dir", "CRASH_REASON"]
