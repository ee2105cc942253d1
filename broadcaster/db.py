"""Database engine and schema. No module-level engine: callers pass one in."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import logging

from sqlalchemy import event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from . import models  # noqa: F401  (registers the tables)
from .exceptions import ConfigError, plain_message

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


def create_schema(engine: Engine) -> None:
    """Create missing tables and record the schema version (idempotent)."""
    try:
        SQLModel.metadata.create_all(engine)
        add_missing_columns(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
            current = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
            if current is None:
                conn.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": SCHEMA_VERSION})
            elif current > SCHEMA_VERSION:
                raise ConfigError(
                    f"Cơ sở dữ liệu thuộc phiên bản mới hơn ({current} > {SCHEMA_VERSION}); hãy cập nhật phần mềm."
                )
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(open_failure(engine, exc)) from exc


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


def add_missing_columns(engine: Engine) -> list[str]:
    """Add columns that newer models have and an older database lacks (SQLite ALTER TABLE).

    create_all() makes missing tables but never touches existing ones; without this a
    data directory made by an earlier version could not load a Bulletin. Added columns
    are nullable with the model's scalar default. Returns "table.column" for each one added.
    """
    added: list[str] = []
    inspector = sa_inspect(engine)
    existing_tables = set(inspector.get_table_names())
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in existing_tables:
                continue
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present or column.primary_key:
                    continue
                ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {column.type.compile(engine.dialect)}'
                default = getattr(column.default, "arg", None)
                if isinstance(default, bool):
                    ddl += f" DEFAULT {int(default)}"
                elif isinstance(default, (int, float)):
                    ddl += f" DEFAULT {default}"
                elif isinstance(default, str):
                    stored = getattr(default, "name", default)  # SQLAlchemy stores enum names
                    ddl += " DEFAULT '" + str(stored).replace("'", "''") + "'"
                conn.execute(text(ddl))
                added.append(f"{table.name}.{column.name}")
    if added:
        log.info("database upgraded: added %s", ", ".join(added))
    return added


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


__all__ = ["make_engine", "create_schema", "add_missing_columns", "Session", "as_utc", "SCHEMA_VERSION"]
