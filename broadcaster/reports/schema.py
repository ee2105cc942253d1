"""What the log review and reports need of a database: the models' indexes and the class trigger.

Moved here unchanged from reports.py so that it can be deleted whole once Alembic migrations
create the indexes and the trigger (issue 10 item 7).
"""

from __future__ import annotations

import weakref

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel


def ensure_indexes(engine: Engine) -> list[str]:
    """Create the indexes the models declare that an older database lacks (idempotent).

    create_all() makes indexes only with new tables and db.add_missing_columns adds columns
    only, so a station upgraded in place would filter its log without them. Returns the
    names created.
    """
    from sqlalchemy import inspect as sa_inspect

    inspector = sa_inspect(engine)
    tables = set(inspector.get_table_names())
    created = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in tables:
            continue
        present = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                index.create(bind=engine, checkfirst=True)
                created.append(index.name)
    return created


CLASS_TRIGGER = "as_run_bulletin_class"
_CLASS_TRIGGER_DDL = f"""
CREATE TRIGGER IF NOT EXISTS {CLASS_TRIGGER} AFTER INSERT ON as_run
WHEN NEW.bulletin_class IS NULL AND NEW.bulletin_id IS NOT NULL
BEGIN
    UPDATE as_run SET bulletin_class = (SELECT bulletin_class FROM bulletin WHERE id = NEW.bulletin_id)
    WHERE id = NEW.id;
END
"""
_prepared: weakref.WeakSet = weakref.WeakSet()  # engines already prepared


def prepare_database(engine: Engine, *, force: bool = False) -> None:
    """What the log review and reports need of a database (idempotent; once per engine):

    * the as_run indexes of the models (ensure_indexes);
    * every as-run row about a bulletin carries the bulletin's class as it was when the row was
      written: a trigger fills it in for writers that leave it out (the slot loop does), and
      rows written before the trigger existed are filled in once here. The log's class filter
      is then one index lookup instead of a join over 100,000 rows.
    """
    if not force and engine in _prepared:
        return
    ensure_indexes(engine)
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text(_CLASS_TRIGGER_DDL))
        conn.execute(text(
            "UPDATE as_run SET bulletin_class = (SELECT bulletin_class FROM bulletin WHERE id = as_run.bulletin_id) "
            "WHERE bulletin_class IS NULL AND bulletin_id IS NOT NULL"
        ))
    _prepared.add(engine)


def _prepare_for(session: Session) -> None:
    prepare_database(session.get_bind())


__all__ = ["ensure_indexes", "prepare_database", "CLASS_TRIGGER"]
