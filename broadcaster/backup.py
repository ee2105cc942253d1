"""Keeping the station's database: the station marker, the lost-database guard, backups, restore.

* The marker `<data dir>/run/station.json` records that this data directory holds a station
  (and which: a random station id, also kept in the database's scheduler_state). It is written
  only when a station is initialised (service.init_data_dir) or restored.
* `guard_database` runs before anything opens the database: a directory that had a station
  (the marker, or backups) whose database is now missing, empty, schemaless, damaged or another
  station's is refused with one line naming the newest backup, instead of silently becoming a
  fresh station with no accounts and the default timetable.
* Backups use SQLite's online backup API from a sqlite3 connection of their own (query_only;
  the same SQLite library as the engine's, so it shares its locks), into
  `<data dir>/backups/broadcaster-<UTC time>.db`: written to a `.part`, checked
  (integrity_check, schema present), fsynced, renamed; the oldest beyond `backup_keep` go.
* `AutoBackup` is what `serve` ticks: a backup when the newest is `backup_interval_h` old, in a
  thread of its own; a failure is an alarm row, never the end of serve.
* `restore_backup` refuses while serve holds the data-directory lock, checks the backup,
  keeps the current database (with its WAL) aside and swaps the copy in atomically.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .dbcopy import (  # noqa: F401  (re-exported: callers import these from here)
    REQUIRED_TABLES,
    BackupError,
    _check_copy,
    _uri,
    copy_database,
    private_database,
    private_dir,
    private_file,
)
from .disk import _fsync_dir
from .exceptions import BroadcasterError, ConfigError, NotFoundError

if TYPE_CHECKING:
    from .config import Settings

log = logging.getLogger(__name__)

BACKUP_DIR = "backups"
MARKER = Path("run") / "station.json"
STATION_ID_KEY = "station_id"
# the tables every database this program made has; a backup without them is not a station's
NAME_RE = re.compile(r"^broadcaster-(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-(\d+))?\.db$")
STAMP = "%Y-%m-%dT%H%M%SZ"
RETRY_AFTER_FAILURE = timedelta(hours=1)  # a failing automatic backup is retried hourly, not every tick
STALE_PART = timedelta(hours=1)
ALARM_TITLE = "Cảnh báo: sao lưu cơ sở dữ liệu không được"


class DatabaseLostError(ConfigError):
    """The data directory had a station but its database is gone, empty or replaced."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup file in <data dir>/backups."""

    name: str
    path: Path
    size_bytes: int
    created_at: datetime  # UTC, from the name

    def as_json(self) -> dict:
        return {"name": self.name, "path": str(self.path), "size_bytes": self.size_bytes,
                "created_at": self.created_at.isoformat(timespec="seconds")}


@dataclass(frozen=True)
class RestoreOutcome:
    source: Path
    aside: Path | None  # where the replaced database was kept (None when there was none)


# ------------------------------------------------------------------------ files
def backups_dir(settings: Settings) -> Path:
    return settings.data_dir / BACKUP_DIR


def marker_path(settings: Settings) -> Path:
    return settings.data_dir / MARKER


# ----------------------------------------------------------------------- marker
def read_marker(settings: Settings) -> dict | None:
    """The marker's content; {} when it exists but cannot be read, None when there is none."""
    path = marker_path(settings)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def write_marker(settings: Settings, station_id: str) -> Path:
    """Say that this data directory holds station `station_id` (atomic, 0600). Only init and restore call this."""
    path = marker_path(settings)
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    body = {"station_id": station_id, "marked_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        os.write(fd, json.dumps(body).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return path


def mark_station(settings: Settings, engine) -> Path | None:
    """After init made or opened a good database: make sure the database and the marker carry the
    same station id (a new one for a new station). Returns the marker when it was written."""
    from sqlalchemy import text

    marker = read_marker(settings) or {}
    proposed = str(marker.get("station_id") or uuid.uuid4().hex)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    select = text("SELECT value FROM scheduler_state WHERE key = :k")
    with engine.connect() as conn:
        station_id = conn.execute(select, {"k": STATION_ID_KEY}).scalar()
    if station_id is None:
        with engine.begin() as conn:
            # OR IGNORE: two commands starting a new station at once agree on the first id
            conn.execute(
                text("INSERT OR IGNORE INTO scheduler_state (key, value, updated_at) VALUES (:k, :v, :t)"),
                {"k": STATION_ID_KEY, "v": proposed, "t": stamp},
            )
            station_id = conn.execute(select, {"k": STATION_ID_KEY}).scalar()
    if marker.get("station_id") == station_id:
        return None
    return write_marker(settings, station_id)


# ------------------------------------------------------------------------ guard
def inspect_database(path: Path) -> tuple[str, str | None, set[str]]:
    """(state, station id, tables) of a database file without changing it.

    state: "missing", "empty" (no bytes or no tables), "foreign" (tables, but not ours),
    "damaged" (not an SQLite file, or unreadable) or "ok"."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing", None, set()
    except OSError:
        return "damaged", None, set()
    if size == 0:
        return "empty", None, set()
    try:
        # only through SQLite, never open(): closing any other descriptor of the live file drops
        # this process's POSIX locks on it, and serve calls this before each backup. Read-only:
        # never checkpoints, never writes a WAL into a file we are about to refuse
        con = sqlite3.connect(_uri(path, read_only=True), uri=True, timeout=30)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return "empty", None, tables
            if "schema_version" not in tables:
                return "foreign", None, tables
            station_id = None
            if "scheduler_state" in tables:
                row = con.execute("SELECT value FROM scheduler_state WHERE key = ?", (STATION_ID_KEY,)).fetchone()
                station_id = row[0] if row else None
            return "ok", station_id, tables
        finally:
            con.close()
    except (sqlite3.Error, OSError) as exc:
        from .disk import is_disk_error

        # a full disk makes SQLite fail even to read a WAL database: that is no lost station
        return ("disk" if is_disk_error(exc) else "damaged"), None, set()


_WHAT = {
    "missing": "không còn",
    "empty": "trống",
    "foreign": "không phải của đài (đã bị thay)",
    "damaged": "hỏng hoặc đã bị thay",
    "other": "là của một đài khác (đã bị thay)",
}


def _restore_hint(settings: Settings, name: str) -> str:
    from .config import DEFAULT_DATA_DIR

    where = "" if Path(settings.data_dir) == DEFAULT_DATA_DIR else f" --data-dir {settings.data_dir}"
    return f"broadcaster backup restore {name}{where}"


def lost_message(settings: Settings, state: str) -> str:
    """One line: what happened to the database, the newest backup, how to restore it."""
    what = _WHAT.get(state, _WHAT["damaged"])
    head = f"Cơ sở dữ liệu {settings.db_path} {what}, đài không mở để khỏi chạy như một đài mới (mất tài khoản, lịch phát)"
    found = list_backups(settings)
    if found:
        newest = found[0]
        from zoneinfo import ZoneInfo

        try:
            local = newest.created_at.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M %d/%m/%Y")
        except Exception:  # a bad timezone setting must not hide the line
            local = newest.created_at.strftime("%H:%M %d/%m/%Y UTC")
        return (f"{head}; bản sao lưu mới nhất: {newest.path} (lúc {local}) — khôi phục bằng: "
                f"{_restore_hint(settings, newest.name)}")
    return (f"{head}; không có bản sao lưu nào trong {backups_dir(settings)} — có bản sao ở nơi khác thì khôi phục "
            f"bằng: {_restore_hint(settings, 'ĐƯỜNG_DẪN')}; muốn bắt đầu một đài mới thì xóa tệp {marker_path(settings)}")


def guard_database(settings: Settings) -> None:
    """Refuse a data directory that had a station and whose database is no longer it.

    Called before anything creates or opens the database (service.init_data_dir, which every
    command goes through via Station.open). A directory that never had a station passes."""
    marker = read_marker(settings)
    if marker is None and not list_backups(settings):
        return
    state, station_id, _tables = inspect_database(settings.db_path)
    if state == "disk":
        from .db import disk_full_message

        raise ConfigError(disk_full_message(settings.db_path))
    if state == "ok":
        expected = (marker or {}).get("station_id")
        if expected and station_id and station_id != expected:
            raise DatabaseLostError(lost_message(settings, "other"), path=str(settings.db_path))
        return
    raise DatabaseLostError(lost_message(settings, state), path=str(settings.db_path), state=state)


# ---------------------------------------------------------------------- backups
def _parse_name(name: str) -> tuple[datetime, int] | None:
    m = NAME_RE.match(name)
    if not m:
        return None
    try:
        when = datetime.strptime(m.group(1), STAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return when, int(m.group(2) or 1)


def list_backups(settings: Settings) -> list[BackupInfo]:
    """The station's backups, newest first (only files named as this module names them)."""
    directory = backups_dir(settings)
    found: list[tuple[tuple[datetime, int], BackupInfo]] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        parsed = _parse_name(entry.name)
        if parsed is None:
            continue
        try:
            if not entry.is_file():
                continue
            size = entry.stat().st_size
        except OSError:
            continue
        found.append((parsed, BackupInfo(entry.name, Path(entry.path), size, parsed[0])))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [info for _, info in found]


def _reserve(directory: Path, now: datetime) -> tuple[Path, Path]:
    """A free backup name for `now` and its .part, the .part created (0600, exclusively)."""
    stamp = now.astimezone(timezone.utc).strftime(STAMP)
    for n in range(1, 1000):
        name = f"broadcaster-{stamp}.db" if n == 1 else f"broadcaster-{stamp}-{n}.db"
        final = directory / name
        if final.exists():
            continue
        part = directory / (name + ".part")
        try:
            os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        return final, part
    raise BackupError(f"Không chọn được tên cho bản sao lưu trong {directory}")


def create_backup(settings: Settings, *, now: datetime | None = None) -> BackupInfo:
    """Back the live database up now into <data dir>/backups, then prune to `backup_keep`."""
    now = now or datetime.now(timezone.utc)
    state, _, _ = inspect_database(settings.db_path)
    if state != "ok":
        # an emptied database must not become the "newest backup" and push good ones out
        raise BackupError(f"Không sao lưu: cơ sở dữ liệu {settings.db_path} {_WHAT.get(state, _WHAT['damaged'])}")
    directory = backups_dir(settings)
    try:
        private_dir(directory)
        if not directory.is_dir():
            raise BackupError(f"{directory} không phải thư mục")
        final, part = _reserve(directory, now)
    except OSError as exc:
        raise BackupError(f"Không ghi được vào {directory}: {exc.strerror or exc}") from exc
    try:
        copy_database(settings.db_path, part, what=f"Bản sao lưu {final.name}")
        os.replace(part, final)
        _fsync_dir(directory)
    except BaseException as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BackupError(f"Không ghi được bản sao lưu {final}: {exc.strerror or exc}") from exc
        raise
    prune_backups(settings)
    log.info("database backed up to %s", final)
    return BackupInfo(final.name, final, final.stat().st_size, _parse_name(final.name)[0])


def prune_backups(settings: Settings, *, keep: int | None = None) -> list[Path]:
    """Remove the oldest backups beyond `keep` (default settings.backup_keep) and stale .part files."""
    keep = settings.backup_keep if keep is None else keep
    removed: list[Path] = []
    for info in list_backups(settings)[max(1, keep):]:
        try:
            info.path.unlink()
            removed.append(info.path)
        except OSError as exc:
            log.warning("could not remove old backup %s: %s", info.path, exc)
    cutoff = datetime.now(timezone.utc).timestamp() - STALE_PART.total_seconds()
    for part in backups_dir(settings).glob("broadcaster-*.db.part"):
        try:
            if part.stat().st_mtime < cutoff:  # left by a crash; a running one is younger
                part.unlink()
        except OSError:
            pass
    return removed


# ---------------------------------------------------------------------- restore
def resolve_backup(settings: Settings, name: str | None) -> Path:
    """The backup called `name` in <data dir>/backups (or a path to a file); the newest when None."""
    if name is None:
        found = list_backups(settings)
        if not found:
            raise NotFoundError(f"Không có bản sao lưu nào trong {backups_dir(settings)}")
        return found[0].path
    candidate = backups_dir(settings) / name
    if "/" not in name and os.sep not in name and candidate.is_file():
        return candidate
    path = Path(name).expanduser()
    if path.is_file():
        return path
    raise NotFoundError(
        f"Không có bản sao lưu '{name}' trong {backups_dir(settings)} (xem: broadcaster backup list)", name=name
    )


def verify_backup(path: Path) -> str | None:
    """Check a backup before it replaces anything; returns its station id (None if it has none)."""
    try:
        con = sqlite3.connect(_uri(path, read_only=True), uri=True, timeout=30)
        try:
            _check_copy(con, f"Bản sao lưu {path}")
            from .db import SCHEMA_VERSION

            version = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            if version is not None and version > SCHEMA_VERSION:
                raise BackupError(f"Bản sao lưu {path} thuộc phiên bản phần mềm mới hơn ({version} > {SCHEMA_VERSION})")
            row = con.execute("SELECT value FROM scheduler_state WHERE key = ?", (STATION_ID_KEY,)).fetchone()
            return row[0] if row else None
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise BackupError(f"Bản sao lưu {path} không đọc được: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"Không đọc được bản sao lưu {path}: {exc.strerror or exc}") from exc


def restore_backup(settings: Settings, name: str | None = None, *, now: datetime | None = None) -> RestoreOutcome:
    """Put a backup back as the station's database. Refused while serve runs on the data directory.

    The backup is checked first; the current database (with its WAL, so nothing committed is lost)
    is kept as broadcaster.db.before-restore-<time>; the copy is made beside the database and
    renamed over it, so at every moment there is a whole database at that path."""
    from .exceptions import ScheduleError
    from .scheduling.lock import DataDirLock

    source = resolve_backup(settings, name)
    private_dir(settings.data_dir)  # restoring onto a new machine: the directory is made 0700 too
    lock = DataDirLock(settings.data_dir)
    try:
        lock.acquire()
    except ScheduleError as exc:
        pid = exc.fields.get("pid")
        who = f" (tiến trình {pid})" if pid else ""
        raise BackupError(
            f"Đài đang chạy trên thư mục dữ liệu {settings.data_dir}{who}; dừng nó (broadcaster serve) rồi mới khôi phục"
        ) from exc
    try:
        return _restore_locked(settings, source, now or datetime.now(timezone.utc))
    finally:
        lock.release()


def _restore_locked(settings: Settings, source: Path, now: datetime) -> RestoreOutcome:
    station_id = verify_backup(source)
    db = settings.db_path
    part = db.with_name(db.name + ".restore.part")
    part.unlink(missing_ok=True)  # ours from a crash: the lock says no other restore runs
    try:
        private_file(part)
        copy_database(source, part, what=f"Bản sao lưu {source}")
    except BaseException as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BackupError(f"Không ghi được {part}: {exc.strerror or exc}") from exc
        raise
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = db.with_name(f"{db.name}.before-restore-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = db.with_name(f"{db.name}.before-restore-{stamp}-{n}")
    kept: Path | None = None
    try:
        if db.exists():
            try:
                os.link(db, aside)  # the database stays in place until the copy replaces it
            except OSError:
                os.replace(db, aside)
            kept = aside
        for suffix in ("-wal", "-journal"):
            side = Path(str(db) + suffix)
            if side.exists():
                if kept is not None:
                    os.replace(side, Path(str(aside) + suffix))  # the pair stays readable together
                else:
                    side.unlink()
        Path(str(db) + "-shm").unlink(missing_ok=True)  # an index of the WAL moved aside
        os.replace(part, db)
        _fsync_dir(db.parent)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise BackupError(f"Không thay được {db}: {exc.strerror or exc}") from exc
    if station_id:
        write_marker(settings, station_id)
    log.info("database restored from %s (previous kept as %s)", source, kept)
    return RestoreOutcome(source=source, aside=kept)


# ---------------------------------------------------------------- serve's backup
class AlarmLog(Protocol):
    """What AutoBackup uses: the station's settings, its clock (now, UTC) and its alarm rows.
    `serve` hands it the as-run log (station.asrun.AsRunLog); the Station facade offers the same."""

    settings: Settings
    clock: Callable[[], datetime]

    def log_alarm(self, *, title: str, reason: str) -> object: ...


class AutoBackup:
    """The daily backup `serve` makes: `tick()` from its loop starts one in a thread when due.

    Due when the newest backup is `backup_interval_h` old (or there is none, or it is dated in
    the future: the clock moved back). After a failure (an alarm row) it waits an hour."""

    def __init__(self, alarms: AlarmLog, *, clock: Callable[[], datetime] | None = None,
                 say: Callable[[str], None] | None = None) -> None:
        self.alarms = alarms
        self.clock = clock or alarms.clock
        self.say = say
        self._thread: threading.Thread | None = None
        self._not_before: datetime | None = None

    def due(self, now: datetime) -> bool:
        interval_h = self.alarms.settings.backup_interval_h
        if interval_h <= 0:
            return False
        if self._not_before is not None and now < self._not_before:
            return False
        found = list_backups(self.alarms.settings)
        if not found:
            return True
        interval = timedelta(hours=interval_h)
        last = found[0].created_at
        return now - last >= interval or last - now > interval

    def tick(self) -> bool:
        """Start a backup if one is due and none is running; returns whether one started. Never raises."""
        try:
            if self._thread is not None and self._thread.is_alive():
                return False
            now = self.clock()
            if not self.due(now):
                return False
        except Exception:
            log.exception("checking whether a backup is due failed")
            return False
        self._thread = threading.Thread(target=self._run, args=(now,), name="backup", daemon=True)
        self._thread.start()
        return True

    def _run(self, now: datetime) -> None:
        try:
            made = create_backup(self.alarms.settings, now=now)
            self._not_before = None
            if self.say is not None:
                self.say(f"Đã sao lưu cơ sở dữ liệu: {made.path}")
        except Exception as exc:  # the station keeps airing; the officer sees an alarm row
            self._not_before = now + RETRY_AFTER_FAILURE
            log.exception("automatic backup failed")
            reason = str(exc) if isinstance(exc, BroadcasterError) else f"{type(exc).__name__}: {exc}"
            try:
                self.alarms.log_alarm(title=ALARM_TITLE, reason=reason)
            except Exception:
                log.exception("could not log the failed backup")

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


__all__ = [
    "AlarmLog", "AutoBackup", "BackupError", "BackupInfo", "DatabaseLostError", "RestoreOutcome", "backups_dir",
    "create_backup", "guard_database", "list_backups", "mark_station", "prune_backups", "restore_backup",
    "verify_backup",
]
