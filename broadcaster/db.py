"""Database engine and schema. No module-level engine: callers pass one in."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from . import models  # noqa: F401  (registers the tables)
from .exceptions import ConfigError, plain_message
from .localtime import as_utc  # noqa: F401  (re-exported: a pure time helper, lives with the clock)

# the schema_version row every release has written (backup.verify_backup reads it); the schema
# itself is versioned by Alembic now (migrations/)
SCHEMA_VERSION = 1

log = logging.getLogger(__name__)


def make_engine(db_path: Path | str, *, pool_size: int | None = None, max_overflow: int | None = None,
                pool_timeout: float | None = None) -> Engine:
    """An engine on a SQLite file with WAL and synchronous=FULL on every connection.

    WAL lets the web console read while playout writes; FULL makes a committed as-run
    row survive a power cut, which matters more than write speed here. `serve` makes two: one
    for the station (playout, timetable, urgent) and one for the web console, whose pool is
    sized with these arguments, so console load never makes the station wait for a connection.
    """
    pool = {k: v for k, v in (("pool_size", pool_size), ("max_overflow", max_overflow),
                              ("pool_timeout", pool_timeout)) if v is not None}
    engine = create_engine(
        f"sqlite:///{db_path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        **pool,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def create_schema(engine: Engine, *, now: datetime | None = None) -> Path | None:
    """Bring the database to this release's schema (idempotent): the Alembic migrations, in one
    transaction, after a backup copy when there is anything to upgrade (see migrate).

    Every failure is one ConfigError line (a newer release's database, a full disk, a failed
    revision: the database is then as it was)."""
    try:
        return migrate(engine, now=now)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(open_failure(engine, exc)) from exc


def _current_revision(conn) -> str | None:
    """alembic_version's row, or None for a database made before Alembic (or a new one)."""
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")).first():
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None


def _migration_engine(engine: Engine) -> Engine:
    """An engine on the same file whose transactions hold DDL too.

    pysqlite starts transactions only before INSERT/UPDATE/DELETE, so a CREATE or ALTER would be
    committed on its own and a failed upgrade would leave half a schema. SQLAlchemy's documented
    remedy (pysqlite "Serializable isolation / Savepoints / Transactional DDL"): turn the driver's
    own transaction handling off and emit BEGIN ourselves. IMMEDIATE: two processes starting at
    once upgrade one after the other, the second then sees head and does nothing."""
    from sqlalchemy.pool import NullPool

    mig = create_engine(engine.url, connect_args={"check_same_thread": False, "timeout": 30}, poolclass=NullPool)

    @event.listens_for(mig, "connect")
    def _connect(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(mig, "begin")
    def _begin(conn) -> None:  # pragma: no cover - trivial
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return mig


def _newer_release(engine: Engine, revision: str) -> ConfigError:
    path = Path(engine.url.database or "")
    return ConfigError(
        f"Cơ sở dữ liệu {path} thuộc phiên bản mới hơn của phần mềm (lược đồ {revision}); hãy cập nhật phần mềm"
        f" / the database was made by a newer release (schema {revision}): upgrade the software",
        path=str(path), revision=revision,
    )


def upgrade_backup_path(db_path: Path, revision: str | None, now: datetime) -> Path:
    """Where the copy taken before an upgrade goes: <data dir>/backups/before-upgrade-<from>-<UTC time>.sqlite
    (a name the periodic backups' pruning never matches, so it is kept until an officer removes it)."""
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    return db_path.parent / "backups" / f"before-upgrade-{revision or 'pre-alembic'}-{stamp}.sqlite"


def _backup_before_upgrade(db_path: Path, revision: str | None, now: datetime) -> Path:
    """A consistent, checked, fsynced 0600 copy of the database as it is (dbcopy.copy_database)."""
    import os

    from .dbcopy import copy_database, private_dir
    from .disk import _fsync_dir

    target = upgrade_backup_path(db_path, revision, now)
    private_dir(target.parent)
    n = 1
    while True:
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            break
        except FileExistsError:
            n += 1
            target = target.with_name(f"{upgrade_backup_path(db_path, revision, now).stem}-{n}.sqlite")
    try:
        # any release's database, even one lacking tables the baseline will add: only intact
        copy_database(db_path, target, what=f"Bản sao trước khi nâng cấp {target.name}", required=frozenset())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    log.info("database backed up to %s before the schema upgrade", target)
    return target


# A brand-new database is made directly (create_all, the trigger, the version rows), so a new
# station never imports Alembic and Mako (~11 MB a waiting process would keep).
# tests/core/test_migrations.py checks it gives exactly the schema the revisions give.
ALEMBIC_VERSION_DDL = (
    "CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n"
    "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)"
)
SCHEMA_VERSION_DDL = "CREATE TABLE schema_version (version INTEGER NOT NULL)"
# gives each as-run row about a bulletin that bulletin's class (the reports count by class)
CLASS_TRIGGER_DDL = """
CREATE TRIGGER as_run_bulletin_class AFTER INSERT ON as_run
WHEN NEW.bulletin_class IS NULL AND NEW.bulletin_id IS NOT NULL
BEGIN
    UPDATE as_run SET bulletin_class = (SELECT bulletin_class FROM bulletin WHERE id = NEW.bulletin_id)
    WHERE id = NEW.id;
END
"""


def _create_new_database(engine: Engine, head: str) -> bool:
    """Make this release's schema in an empty database, in one transaction, stamped `head`.
    False (nothing done) when another process made tables first: then the upgrade path decides."""
    from sqlmodel import SQLModel

    mig = _migration_engine(engine)
    try:
        with mig.begin() as conn:
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table'")).first() is not None:
                return False
            SQLModel.metadata.create_all(conn)
            conn.execute(text(SCHEMA_VERSION_DDL))
            conn.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": SCHEMA_VERSION})
            conn.execute(text(CLASS_TRIGGER_DDL))
            conn.execute(text(ALEMBIC_VERSION_DDL))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    finally:
        mig.dispose()
    log.info("new database created at schema %s", head)
    return True


def migrate(engine: Engine, *, now: datetime | None = None) -> Path | None:
    """Bring the database to head. Returns the backup copy taken first (None when nothing was to
    be upgraded, or the database had no tables to keep).

    A database already at head is left untouched (one read); an empty one is made directly
    (_create_new_database); neither imports Alembic. Any other runs the Alembic migrations up to
    head, all in one transaction (upgrade_with_alembic)."""
    from .migrations import HEAD

    with engine.connect() as conn:
        current = _current_revision(conn)
        has_tables = conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table'")).first() is not None
    if current == HEAD:
        return None
    if not has_tables:
        if _create_new_database(engine, HEAD):
            return None
        with engine.connect() as conn:  # another process made it meanwhile
            current = _current_revision(conn)
        if current == HEAD:
            return None
        has_tables = True
    return upgrade_with_alembic(engine, current, has_tables=has_tables, now=now)


def upgrade_with_alembic(engine: Engine, current: str | None, *, has_tables: bool,
                         now: datetime | None) -> Path | None:
    """Run the Alembic migrations from `current` up to head, all in one transaction, after a
    backup copy when the database has tables. A revision this release does not know was made by
    a newer release: refused, untouched."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from .migrations import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            raise _newer_release(engine, current) from None
    db_path = Path(engine.url.database or "")
    backup = _backup_before_upgrade(db_path, current, now or datetime.now(timezone.utc)) if has_tables else None
    mig = _migration_engine(engine)
    try:
        with mig.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        mig.dispose()
    log.info("database schema upgraded from %s to %s", current or "pre-alembic", script.get_current_head())
    return backup


def disk_full_message(path: Path) -> str:
    """The one line for a database that a full (or failing) disk keeps closed."""
    from .disk import free_mb

    try:
        free = f"còn {free_mb(path.parent):.1f} MB trống"
    except OSError:
        free = "không đọc được dung lượng trống"
    return (
        f"Không mở được cơ sở dữ liệu {path}: ổ đĩa đầy hoặc lỗi ({free}). SQLite cần chỗ trống cho "
        "tệp -wal/-shm của nó; hãy xóa bớt tệp trên ổ đĩa này rồi chạy lại."
    )


def open_failure(engine: Engine, exc: BaseException) -> str:
    """One line for a database that cannot be opened: a full disk said as such, else SQLite's own
    words (never SQLAlchemy's statement dumps and links)."""
    from .disk import is_disk_error

    path = Path(engine.url.database or "")
    if is_disk_error(exc):
        return disk_full_message(path)
    return f"Không mở được cơ sở dữ liệu {path}: {plain_message(exc) or type(exc).__name__}"


__all__ = ["make_engine", "create_schema", "migrate", "Session", "as_utc", "SCHEMA_VERSION"]
