"""Files of an SQLite database that must survive: owner-only modes, fsync, and a consistent copy.

The lowest layer of keeping the database (no import of db, config or the station): backup.py makes
the station's backups with it, and db.py the copy taken before a schema upgrade.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .disk import _fsync_file  # the one place a write is made durable
from .exceptions import BroadcasterError

# the tables every station database has had since the first release (a copy without them is no station's)
REQUIRED_TABLES = frozenset({"schema_version", "bulletin", "as_run", "slot", "scheduler_state"})


class BackupError(BroadcasterError):
    """A backup could not be made or a restore could not be done."""




def private_dir(path: Path) -> None:
    """Make a directory (and its parents) owner-only (0700) if it does not exist yet."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        try:
            path.chmod(0o700)
        except OSError:
            pass


def private_file(path: Path) -> bool:
    """Create an empty owner-only (0600) file, or take group/other rights away from an existing
    one. SQLite gives its -wal and -shm files the database file's mode. Returns True if created."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return True
    except FileExistsError:
        pass
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError:
        pass
    return False


def private_database(path: Path) -> bool:
    """The database file owner-only (created empty if missing), and its -wal/-shm if present.
    Returns True when the file was created."""
    created = private_file(path)
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            private_file(side)
    return created


def _uri(path: Path, *, read_only: bool) -> str:
    return f"{path.resolve().as_uri()}?mode={'ro' if read_only else 'rw'}"


def _check_copy(con: sqlite3.Connection, what: str, *, required: frozenset[str] = REQUIRED_TABLES) -> None:
    """A database is worth keeping: intact, and a station's (schema present)."""
    rows = con.execute("PRAGMA integrity_check").fetchall()
    if [r[0] for r in rows] != ["ok"]:
        raise BackupError(f"{what} bị hỏng (integrity_check: {rows[0][0] if rows else '?'})")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(required - tables)
    if missing:
        raise BackupError(f"{what} không phải cơ sở dữ liệu của đài (thiếu bảng {', '.join(missing)})")


def copy_database(source: Path, target: Path, *, what: str, required: frozenset[str] = REQUIRED_TABLES) -> None:
    """Copy a live database into `target` (an existing empty 0600 file) with the online backup API,
    as one self-contained file (rollback journal, not WAL), checked and fsynced."""
    try:
        # read-write but query_only: a read-only connection would leave an empty -wal/-shm
        # behind (it cannot remove them when it is the last to close); this one never writes
        src = sqlite3.connect(_uri(source, read_only=False), uri=True, timeout=30)
        src.execute("PRAGMA query_only=1")
    except sqlite3.Error as exc:
        raise BackupError(f"Không mở được {source}: {exc}") from exc
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            # one step (pages=-1): a single read transaction, so the copy is one consistent
            # moment; in WAL mode the station's writers are not held up meanwhile
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            _check_copy(dst, what, required=required)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"Không sao lưu được {source}: {exc}") from exc
    finally:
        src.close()
    _fsync_file(target)
