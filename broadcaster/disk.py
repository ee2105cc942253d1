"""The data directory's disk: free space against `min_free_mb`, and files written whole or not at all.

A full disk must not silence the station: what is already rendered still airs (playing a
file needs no disk), but nothing new is rendered while free space is below `min_free_mb`
(renders raise DiskFullError with one Vietnamese line), and every file is written through
`part_file`/`write_atomic` (a `.part` next to it, renamed over it when complete) so a
write that fails half-way leaves nothing behind.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .exceptions import DiskFullError

log = logging.getLogger(__name__)

LOW_TITLE = "Cảnh báo: ổ đĩa sắp đầy"
BACK_TITLE = "Ổ đĩa đã có đủ chỗ trống"
# leftovers of writes cut short (a crash, a kill) older than this are removed at start-up
STALE_PART_S = 600.0


def free_mb(path: Path | str) -> float:
    """Free space (MB, for an unprivileged writer) on the disk holding `path` (its nearest existing parent)."""
    path = Path(path)
    while not path.exists() and path.parent != path:
        path = path.parent
    return shutil.disk_usage(path).free / (1024 * 1024)


def low_space(settings) -> str | None:
    """One Vietnamese line when the data directory's disk is below `min_free_mb`, else None."""
    try:
        free = free_mb(settings.data_dir)
    except OSError as exc:  # cannot even ask: say so rather than pretend all is well
        return f"Không kiểm tra được dung lượng trống ở {settings.data_dir}: {exc.strerror or exc}"
    if free >= settings.min_free_mb:
        return None
    return (
        f"Ổ đĩa chứa dữ liệu đài sắp đầy: còn {free:.0f} MB trống ở {settings.data_dir} "
        f"(tối thiểu {settings.min_free_mb} MB, min_free_mb). Bản tin đã dựng vẫn phát; "
        "chưa dựng được bản tin mới. Hãy xóa bớt tệp để giải phóng dung lượng."
    )


def require_space(settings, what: str = "dựng bản tin") -> None:
    """Raise DiskFullError (one line) when the disk is below `min_free_mb`; `what` is the refused action."""
    problem = low_space(settings)
    if problem is not None:
        raise DiskFullError(f"Không {what} được: {problem}")


def is_disk_error(exc: BaseException) -> bool:
    """Whether an exception (an OSError, or SQLite's through SQLAlchemy) says the disk is full or failing."""
    import errno

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
            return True
        text = str(exc).lower()
        if "disk is full" in text or "disk i/o error" in text or "no space left" in text:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:  # pragma: no cover - a failing disk: say so, keep the first error
        log.warning("could not remove %s: %s", path, exc)


@contextmanager
def part_file(path: Path | str) -> Iterator[Path]:
    """A `<name>.<random>.part` path to write `path` into. When the block ends without error its
    data is flushed to the disk (fsync), then it is renamed over `path` and the rename is flushed
    too: after a power cut the file is its old or its new self, never renamed but empty. Removed
    on any exception (a full disk leaves nothing half-written behind). The random part keeps two
    writers of the same file (serve and a CLI render) out of each other's way.

    This is the one `.part` + rename idiom: write_atomic, media.write_wav and the speech cache use it."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_dir(path.parent)


class Writeback:
    """Has the disk start writing a file while it is still being written, so the fsync that
    ends it waits for its last few MB rather than all of it (the writing itself overlaps the
    work that makes the data). Linux: sync_file_range(SYNC_FILE_RANGE_WRITE) on each ``step``
    bytes written, asynchronous, the pages staying in the cache; elsewhere nothing. Advisory: a
    failure is ignored (the fsync still makes the file durable)."""

    def __init__(self, fd: int, *, start: int = 0, step: int = 8 << 20) -> None:
        self._fd = fd
        self._sent = start  # bytes before this offset are already handed to the disk
        self._end = start  # where the writes have reached
        self._step = step

    def wrote(self, count: int) -> None:
        """``count`` more bytes were written, after those before."""
        self._end += count
        if self._end - self._sent >= self._step:
            _start_writeback(self._fd, self._sent, self._end - self._sent)
            self._sent = self._end


def _start_writeback(fd: int, offset: int, count: int) -> None:
    call = _sync_file_range()
    if call is not None:
        call(fd, offset, count, 2)  # SYNC_FILE_RANGE_WRITE: start writing, do not wait


def _sync_file_range():
    global _SYNC_RANGE
    if _SYNC_RANGE is None:
        _SYNC_RANGE = False
        if os.name == "posix" and os.uname().sysname == "Linux":
            import ctypes

            try:
                call = ctypes.CDLL(None, use_errno=True).sync_file_range
            except (OSError, AttributeError):
                return None
            call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
            call.restype = ctypes.c_int
            _SYNC_RANGE = call
    return _SYNC_RANGE or None


_SYNC_RANGE = None


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable; not every platform or file system allows fsync on a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path | str, data: bytes | str, *, mode: int | None = None) -> Path:
    """Write bytes or UTF-8 text whole (part_file: fsync, rename); `mode` creates the file with those
    permissions from the start (e.g. 0o600 for a secret)."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with part_file(path) as tmp:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        fd = os.open(tmp, flags, 0o644 if mode is None else mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
    return path


def remove_stale_parts(root: Path | str, *, older_than_s: float = STALE_PART_S) -> list[Path]:
    """Remove `*.part` leftovers under `root` (writes cut short by a crash or a kill) not touched for
    `older_than_s` seconds: a write still in progress elsewhere is left alone. Returns what went."""
    removed: list[Path] = []
    cutoff = time.time() - older_than_s
    root = Path(root)
    if not root.is_dir():
        return removed
    for path in root.rglob("*.part"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    if removed:
        log.info("removed %d leftover .part file(s) under %s", len(removed), root)
    return removed


__all__ = [
    "free_mb",
    "low_space",
    "require_space",
    "is_disk_error",
    "part_file",
    "write_atomic",
    "remove_stale_parts",
    "LOW_TITLE",
    "BACK_TITLE",
]
