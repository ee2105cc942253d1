"""One scheduler per data directory."""

import os
import subprocess
import sys
import textwrap

import pytest

from broadcaster.exceptions import ScheduleError
from broadcaster.scheduling.lock import ALREADY_RUNNING, DataDirLock


def test_second_acquire_fails_with_the_officers_message(tmp_path):
    first = DataDirLock(tmp_path).acquire()
    with pytest.raises(ScheduleError, match=ALREADY_RUNNING) as info:
        DataDirLock(tmp_path).acquire()
    assert f"tiến trình {os.getpid()}" in str(info.value)
    first.release()


def test_released_after_close_and_reacquired(tmp_path):
    with DataDirLock(tmp_path) as lock:
        assert lock.held
    assert not lock.held
    with DataDirLock(tmp_path):
        pass
    lock.release()  # idempotent


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "scheduler.lock").write_text(dead.stdout.strip() + "\n", encoding="ascii")
    lock = DataDirLock(tmp_path).acquire()
    assert lock.holder_pid() == os.getpid()
    lock.release()


def test_another_process_is_refused_while_held_and_admitted_after(tmp_path):
    probe = textwrap.dedent(
        f"""
        from broadcaster.scheduling.lock import DataDirLock
        from broadcaster.exceptions import ScheduleError
        try:
            DataDirLock({str(tmp_path)!r}).acquire()
        except ScheduleError as exc:
            print("refused:", exc)
        else:
            print("acquired")
        """
    )
    lock = DataDirLock(tmp_path).acquire()
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("refused:") and ALREADY_RUNNING in out
    lock.release()
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "acquired"


def test_a_killed_holder_frees_the_lock(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            f"""
            import sys, time
            from broadcaster.scheduling.lock import DataDirLock
            lock = DataDirLock({str(tmp_path)!r}).acquire()  # kept: a dropped lock object lets go
            print("held", flush=True)
            time.sleep(60)
            """
        )],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ScheduleError):
            DataDirLock(tmp_path).acquire()
    finally:
        holder.kill()  # like a power cut: no clean-up code runs
        holder.wait()
    DataDirLock(tmp_path).acquire().release()
