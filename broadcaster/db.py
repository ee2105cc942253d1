"""Database engine and schema. No module-level engine: callers pass one in."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from . import models  # noqa: F401  (registers the tables)
from .exceptions import ConfigError

SCHEMA_VERSION = 1


def make_engine(db_path: Path | str) -> Engine:
    """An engine on a SQLite file with WAL and synchronous=FULL on every connection.

    WAL lets the web console read while playout writes; FULL makes a committed as-run
    row survive a power cut, which matters more than write speed here.
    """
    engine = create_engine(
        f"sqlite:///{db_path}",
        connect_args={"check_same_thread": False, "timeout": 30},
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
        raise ConfigError(f"Không mở được cơ sở dữ liệu: {exc}") from exc


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


__all__ = ["make_engine", "create_schema", "Session", "as_utc", "SCHEMA_VERSION"]
