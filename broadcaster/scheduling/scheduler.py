"""The one module that imports APScheduler: jobs derived from the timetable."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from .timetable import Slot, Timetable

log = logging.getLogger(__name__)


def build_scheduler(
    timetable: Timetable,
    on_slot: Callable[[Slot, datetime], None],
    *,
    misfire_grace_s: int,
) -> BackgroundScheduler:
    """A scheduler with one cron job per slot, not yet started.

    misfire_grace_time is explicit because APScheduler's default of 1 s silently drops a
    06:00 slot when the PC was busy or asleep at 06:00; coalesce keeps catch-up runs
    from firing all at once; one worker airs slots one after another.
    """
    scheduler = BackgroundScheduler(
        timezone=timetable.tz,
        executors={"default": {"type": "threadpool", "max_workers": 1}},
        job_defaults={"coalesce": True, "misfire_grace_time": misfire_grace_s, "max_instances": 1},
    )
    for index, slot in enumerate(timetable.slots):
        trigger = CronTrigger(
            hour=slot.at.hour, minute=slot.at.minute, day_of_week=slot.cron_day_of_week(), timezone=timetable.tz
        )
        scheduler.add_job(
            _run_slot,
            trigger,
            args=[on_slot, slot, trigger],
            id=f"slot-{index}",
            name=slot.name,
            replace_existing=True,
        )
    return scheduler


def _run_slot(on_slot: Callable[[Slot, datetime], None], slot: Slot, trigger: CronTrigger) -> None:
    # the planned time is the trigger's fire time at or before now (it may run late inside the grace)
    now = datetime.now(trigger.timezone)
    planned = now.replace(hour=slot.at.hour, minute=slot.at.minute, second=0, microsecond=0)
    if planned > now:  # a late run just after midnight belongs to yesterday's slot
        from datetime import timedelta

        planned -= timedelta(days=1)
    try:
        on_slot(slot, planned)
    except Exception:  # a slot must never kill the scheduler thread
        log.exception("slot %s failed", slot.name)
