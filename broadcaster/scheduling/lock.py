"""One scheduler per data directory: an operating-system lock on `<data dir>/scheduler.lock`.

Two schedulers on one database would air every slot twice. The lock is taken with
`fcntl.flock` on POSIX and `msvcrt.locking` on Windows (chosen at run time). Both are
released by the operating system when the process dies, so a lock file left behind by
a crash or a power cut is never "stale": the next start simply takes it. The process id
written inside is only there to tell the officer which process holds it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..exceptions import ScheduleError

LOCK_NAME = "scheduler.lock"
ALREADY_RUNNING = "Đài đang chạy ở thư mục dữ liệu này"


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        # flock (not lockf): it belongs to the open file, so a second open in the same
        # process is refused too, the same as on Windows
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


class DataDirLock:
    """The scheduler lock of one data directory. Use as a context manager or acquire()/release()."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder_pid(self) -> int | None:
        """The process id written by the holder, when it can be read."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):  # Windows refuses to read a locked byte
            return None
        return int(text) if text.isascii() and text.isdecimal() else None

    def acquire(self) -> DataDirLock:
        """Take the lock or raise ScheduleError saying another station runs on this directory."""
        if self._fd is not None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            pid = self.holder_pid()
            who = f", tiến trình {pid}" if pid else ""
            raise ScheduleError(
                f"{ALREADY_RUNNING} ({self.data_dir}{who}) / the station already runs on this data directory",
                path=str(self.path),
                pid=pid,
            )
        # the previous holder may have died without cleaning up: replace its pid with ours
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock back (idempotent). The file stays: unlinking it would race a new holder."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __del__(self) -> None:  # a forgotten lock must not outlive its object
        try:
            self.release()
        except Exception:
            pass


__all__ = ["DataDirLock", "LOCK_NAME", "ALREADY_RUNNING"]
