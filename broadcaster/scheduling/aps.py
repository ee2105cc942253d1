"""The one module that imports APScheduler: its scheduler, executor and trigger on an injected clock.

How APScheduler 3.x is made to run on an injected clock (the least fragile way found in
3.11's source; apscheduler is pinned <4 in pyproject.toml):

* `ClockScheduler` subclasses `BaseScheduler` (like `BackgroundScheduler`, it runs its
  loop on its own thread). It overrides two methods: `_main_loop`, whose wait between
  rounds goes through `Clock.wait` instead of `threading.Event.wait`, and
  `_process_jobs`, a copy of 3.11's with `datetime.now(self.timezone)` replaced by the
  clock and one hook added: run times dropped by coalescing are reported, because a
  dropped slot must get a "missed" row in the as-run log.
* `ClockExecutor` is an executor plugin (a public extension point). APScheduler's own
  `run_job` measures lateness with the wall clock; ours uses the injected clock, runs
  jobs one after another on one thread (a slot never overlaps another) and passes the
  scheduled run time to the job, which needs it as the slot's planned time.
* `SlotTrigger` is a trigger plugin backed by the pure timetable, so "when does this
  slot occur" has one answer everywhere (jobs, missed-slot detection, the CLI).
* Jobs are always added with an explicit `next_run_time`, so APScheduler never computes
  one from the wall clock (`_real_add_job`).

Everything else — job store, coalescing, misfire grace, events, add/remove — is stock
APScheduler. With `RealClock` the behaviour is that of a `BackgroundScheduler`.

scheduler.SlotScheduler builds the station's jobs on these and imports nothing from APScheduler itself.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from threading import TIMEOUT_MAX
from traceback import format_tb

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.base import BaseExecutor, MaxInstancesReachedError
from apscheduler.schedulers.base import STATE_PAUSED, STATE_STOPPED, BaseScheduler
from apscheduler.triggers.base import BaseTrigger

from .clock import Clock
from .timetable import Slot

# the logger these messages have always gone to (this module was split out of scheduler.py)
log = logging.getLogger("broadcaster.scheduling.scheduler")


# --------------------------------------------------------------------- APScheduler
class SlotTrigger(BaseTrigger):
    """Fires at each occurrence of a slot, shifted by `offset` (negative = earlier)."""

    __slots__ = ("slot", "tz", "offset")

    def __init__(self, slot: Slot, tz, offset: timedelta = timedelta(0)) -> None:
        self.slot = slot
        self.tz = tz
        self.offset = offset

    def first_fire(self, moment: datetime, *, inclusive: bool) -> datetime | None:
        """The first fire time at (when inclusive) or after `moment`."""
        occurrence = self.slot.next_after(moment - self.offset, self.tz, inclusive=inclusive)
        return occurrence + self.offset if occurrence is not None else None

    def get_next_fire_time(self, previous_fire_time, now):
        if previous_fire_time is None:
            return self.first_fire(now, inclusive=True)
        return self.first_fire(previous_fire_time, inclusive=False)

    def __str__(self) -> str:
        shift = f" {self.offset.total_seconds():+g} s" if self.offset else ""
        return f"slot[{self.slot.name} {self.slot.at:%H:%M}{shift}]"

    def __repr__(self) -> str:
        return f"<SlotTrigger {self}>"


class ClockExecutor(BaseExecutor):
    """Runs submitted jobs one at a time on its own thread; lateness is measured on the clock.

    The job function is called as ``func(*args, scheduled_at=run_time, **kwargs)``.
    """

    def __init__(self, clock: Clock, name: str = "executor") -> None:
        super().__init__()
        self._clock = clock
        self._name = name
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        self._thread = threading.Thread(target=self._work, name=f"broadcaster-{self._name}", daemon=True)
        self._thread.start()

    def shutdown(self, wait=True):
        self._queue.put(None)
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _do_submit_job(self, job, run_times):
        self._queue.put((job, list(run_times)))

    def _work(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            job, run_times = task
            try:
                events = self._run(job, run_times)
            except BaseException:  # pragma: no cover - _run catches the job's own errors
                exc, tb = sys.exc_info()[1:]
                self._run_job_error(job.id, exc, tb)
            else:
                self._run_job_success(job.id, events)

    def _run(self, job, run_times) -> list[JobExecutionEvent]:
        events = []
        for run_time in run_times:
            if job.misfire_grace_time is not None:
                late = self._clock.now() - run_time
                if late > timedelta(seconds=job.misfire_grace_time):
                    log.warning('job "%s" missed its run time %s by %s', job.name, run_time, late)
                    events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, run_time))
                    continue
            try:
                retval = job.func(*job.args, scheduled_at=run_time, **job.kwargs)
            except BaseException:
                exc, tb = sys.exc_info()[1:]
                log.exception('job "%s" raised an exception', job.name)
                events.append(
                    JobExecutionEvent(
                        EVENT_JOB_ERROR, job.id, job._jobstore_alias, run_time,
                        exception=exc, traceback="".join(format_tb(tb)),
                    )
                )
            else:
                events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time, retval=retval))
        return events


class ClockScheduler(BaseScheduler):
    """An APScheduler 3.x scheduler on its own thread whose time comes from `clock`.

    `on_coalesced(job, dropped_run_times)` is called for run times that will not run:
    folded into the latest one by coalescing, or refused by the executor (still busy);
    `on_submit(job, run_times)` just before run times go to the executor (so their owner
    knows they are in flight).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        on_coalesced: Callable[[object, list[datetime]], None] | None = None,
        on_submit: Callable[[object, list[datetime]], None] | None = None,
        **options,
    ) -> None:
        self._clock = clock
        self._on_coalesced = on_coalesced
        self._on_submit = on_submit
        self._event = threading.Event()
        self._thread: threading.Thread | None = None
        super().__init__(**options)

    def now(self) -> datetime:
        """The clock's time in the scheduler's zone."""
        return self._clock.now().astimezone(self.timezone)

    def start(self, paused: bool = False) -> None:
        self._event = threading.Event()
        super().start(paused)
        self._thread = threading.Thread(target=self._main_loop, name="broadcaster-scheduler", daemon=True)
        self._thread.start()

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)
        self._event.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None

    def wakeup(self) -> None:
        self._event.set()

    def _main_loop(self) -> None:
        wait_seconds = TIMEOUT_MAX
        while self.state != STATE_STOPPED:
            self._clock.wait(self._event, wait_seconds)
            self._event.clear()
            wait_seconds = self._process_jobs()

    def _process_jobs(self):
        # A copy of APScheduler 3.11 BaseScheduler._process_jobs: the clock instead of
        # datetime.now, and coalesced run times reported instead of silently dropped.
        if self.state == STATE_PAUSED:
            return None
        now = self.now()
        next_wakeup_time = None
        events = []
        with self._jobstores_lock:
            for jobstore_alias, jobstore in self._jobstores.items():
                try:
                    due_jobs = jobstore.get_due_jobs(now)
                except Exception as exc:
                    log.warning("error getting due jobs from job store %r: %s", jobstore_alias, exc)
                    retry = now + timedelta(seconds=self.jobstore_retry_interval)
                    if not next_wakeup_time or next_wakeup_time > retry:
                        next_wakeup_time = retry
                    continue
                for job in due_jobs:
                    try:
                        executor = self._lookup_executor(job.executor)
                    except BaseException:
                        log.error('executor "%s" of job "%s" not found; job removed', job.executor, job)
                        self.remove_job(job.id, jobstore_alias)
                        continue
                    run_times = job._get_run_times(now)
                    if run_times and job.coalesce:
                        dropped, run_times = run_times[:-1], run_times[-1:]
                        if dropped and self._on_coalesced is not None:
                            try:
                                self._on_coalesced(job, dropped)
                            except Exception:
                                log.exception("reporting coalesced runs of %s failed", job)
                    if run_times:
                        if self._on_submit is not None:
                            self._on_submit(job, run_times)
                        try:
                            executor.submit_job(job, run_times)
                        except BaseException as exc:
                            if isinstance(exc, MaxInstancesReachedError):
                                log.warning('job "%s" skipped: it is still running', job)
                            else:
                                log.exception('error submitting job "%s"', job)
                            if self._on_coalesced is not None:  # they will not run either
                                self._on_coalesced(job, run_times)
                        else:
                            events.append(JobSubmissionEvent(EVENT_JOB_SUBMITTED, job.id, jobstore_alias, run_times))
                        job_next_run = job.trigger.get_next_fire_time(run_times[-1], now)
                        if job_next_run:
                            job._modify(next_run_time=job_next_run)
                            jobstore.update_job(job)
                        else:
                            self.remove_job(job.id, jobstore_alias)
                jobstore_next = jobstore.get_next_run_time()
                if jobstore_next and (next_wakeup_time is None or jobstore_next < next_wakeup_time):
                    next_wakeup_time = jobstore_next.astimezone(self.timezone)
        for event in events:
            self._dispatch_event(event)
        if self.state == STATE_PAUSED or next_wakeup_time is None:
            return None
        now = self.now()
        return min(max(next_wakeup_time.timestamp() - now.timestamp(), 0), TIMEOUT_MAX)


__all__ = ["ClockScheduler", "ClockExecutor", "SlotTrigger", "EVENT_JOB_MISSED", "STATE_STOPPED"]
