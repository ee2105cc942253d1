"""The station's watch over its loudspeaker clusters' links (issue 14 item 4): the alarm rows an
officer reads in the log.

* At a slot's start, each active cluster offline then gets an alarm row naming it, once per cluster
  per slot occurrence (`alarm_offline`, handed to OnAir as its `slot_start`).
* Every few seconds (`watch`, OnAir's `watch`), a cluster seen online during this run that stops
  reporting gets an alarm row "mất kết nối" from its last report; when it reports again, a row with
  the gap's length.

Built with its collaborators (engine, settings, clock, the as-run log the alarms go to); it reads the
clusters' rows itself and never calls back into the facade or the registry object.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..localtime import as_utc
from ..models import AsRunPublic
from .receivers import active_receivers, is_online, offline_seconds

if TYPE_CHECKING:
    from ..config import Settings
    from .asrun import AsRunLog

OFFLINE_ALARM_TITLE = "Cảnh báo: cụm loa mất kết nối"


class ReceiverWatch:
    """The clusters' link alarms of one station's database."""

    def __init__(self, *, engine: Engine, settings: Settings, clock: Callable[[], datetime], alarms: AsRunLog) -> None:
        """engine: the station's database; settings: receiver_offline_s and the timezone; clock: now, UTC;
        alarms: the as-run log the alarm rows go to."""
        self.db = engine
        self.settings = settings
        self.clock = clock
        self.alarms = alarms
        # `watch`: clusters seen online during this run, and since when each one went quiet
        self._was_online: set[int] = set()
        self._quiet_since: dict[int, datetime] = {}

    def over_engine(self, engine: Engine, *, alarms: AsRunLog) -> ReceiverWatch:
        """The same watch (its state shared) through another engine and as-run log."""
        view = copy.copy(self)
        view.db, view.alarms = engine, alarms
        return view

    @property
    def offline_s(self) -> float:
        return offline_seconds(self.settings)

    def watch(self) -> list[AsRunPublic]:
        """Run every few seconds by serve: a cluster seen online that stops reporting gets an alarm row
        ("mất kết nối", from its last report); when it reports again, a row with the gap's length."""
        from ..localtime import duration_words, fmt_local

        now = self.clock()
        with Session(self.db) as session:
            active = active_receivers(session)
        rows = []
        for receiver in active:
            seen = as_utc(receiver.last_seen)
            if is_online(receiver, now, self.offline_s):
                since = self._quiet_since.pop(receiver.id, None)
                if since is not None and seen is not None:
                    gap = duration_words((seen - since).total_seconds())
                    rows.append(self.alarms.log_alarm(
                        title=f"Cụm loa kết nối lại «{receiver.name}»",
                        reason=f"Cụm loa «{receiver.name}» kết nối lại sau {gap} mất kết nối",
                        started_at=since, ended_at=seen))
                self._was_online.add(receiver.id)
            elif receiver.id in self._was_online and seen is not None:
                self._was_online.discard(receiver.id)
                self._quiet_since[receiver.id] = seen
                rows.append(self.alarms.log_alarm(
                    title=f"{OFFLINE_ALARM_TITLE} «{receiver.name}»",
                    reason=(f"Cụm loa «{receiver.name}» không báo cáo từ {fmt_local(seen, self.settings.timezone)} "
                            f"(quá {self.offline_s:g} giây)"),
                    started_at=seen))
        return rows

    def alarm_offline(self, slot: str, planned_at: datetime) -> list[AsRunPublic]:
        """When a slot starts: an alarm row for each active cluster offline now (one per cluster per
        slot occurrence). Returns the rows written."""
        from ..localtime import fmt_local
        from ..models import AsRun, AsRunKind

        planned_at = planned_at.astimezone(timezone.utc)
        now = self.clock()
        with Session(self.db) as session:
            offline = [r for r in active_receivers(session) if not is_online(r, now, self.offline_s)]
            if not offline:
                return []
            said = set(session.exec(select(AsRun.title).where(
                AsRun.kind == AsRunKind.alarm, AsRun.slot == slot, AsRun.planned_at == planned_at)).all())
        rows = []
        for receiver in offline:
            title = f"{OFFLINE_ALARM_TITLE} «{receiver.name}»"
            if title in said:
                continue
            seen = fmt_local(receiver.last_seen, self.settings.timezone)
            where = f" (vùng {receiver.zone})" if receiver.zone else ""
            reason = (f"Cụm loa «{receiver.name}»{where} không kết nối khi khung {slot} bắt đầu; "
                      + (f"báo cáo lần cuối lúc {seen}" if seen else "chưa kết nối lần nào"))
            rows.append(self.alarms.log_alarm(title=title, reason=reason, slot=slot, planned_at=planned_at))
        return rows


__all__ = ["OFFLINE_ALARM_TITLE", "ReceiverWatch"]
