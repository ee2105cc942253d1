"""The indexes the log's filters use, on a new and on an upgraded database (made by the baseline migration)."""

from __future__ import annotations

import pytest
from sqlalchemy import text



def test_the_baseline_migration_gives_an_old_database_its_indexes(station):
    from broadcaster.db import create_schema

    with station.db.begin() as conn:  # as a database of an earlier release (before Alembic) had it
        conn.execute(text("DROP INDEX ix_as_run_operator_started"))
        conn.execute(text("DROP INDEX ix_as_run_class_started"))
        conn.execute(text("DROP TABLE alembic_version"))
    create_schema(station.db)
    with station.db.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    assert {"ix_as_run_operator_started", "ix_as_run_class_started"} <= names


@pytest.mark.parametrize(
    ("where", "index"),
    [
        ("operator = 'trucdai'", "ix_as_run_operator_started"),
        ("bulletin_class = 'emergency'", "ix_as_run_class_started"),
        ("status = 'failed'", "ix_as_run_status"),
        ("kind = 'relay'", "ix_as_run_kind"),
    ],
)
def test_log_filters_use_an_index(station, where, index):
    with station.db.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN SELECT count(*) FROM as_run WHERE {where}")))
    assert index in plan, plan
