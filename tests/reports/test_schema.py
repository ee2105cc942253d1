"""broadcaster.reports.schema: the indexes the log's filters use on an upgraded database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from broadcaster.reports.schema import ensure_indexes


def test_ensure_indexes_upgrades_an_old_database(station):
    with station.db.begin() as conn:
        conn.execute(text("DROP INDEX ix_as_run_operator_started"))
        conn.execute(text("DROP INDEX ix_as_run_class_started"))
    created = ensure_indexes(station.db)
    assert set(created) == {"ix_as_run_operator_started", "ix_as_run_class_started"}
    assert ensure_indexes(station.db) == []


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
