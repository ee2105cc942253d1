"""Safe upgrades (issue 10, item 7): the schema is Alembic's migrations, run at every start, in
one transaction, after a backup copy when there is anything to upgrade.

The previous release's data directory is tests/data/release-4af059f.sql (made by that release's own
code: tests/data/make_release_fixture.py), loaded into a fresh data directory here.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from broadcaster.config import load_settings
from broadcaster.exceptions import ConfigError
from broadcaster.station.facade import Station

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "release-4af059f.sql"
BIN = Path(sys.executable).parent / "broadcaster"


def _dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def _rows(path: Path, table: str) -> list[dict]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f'SELECT * FROM "{table}" ORDER BY rowid')]
    finally:
        con.close()


def _revision(path: Path) -> str | None:
    con = sqlite3.connect(path)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone():
            return None
        return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        con.close()


def _upgrade_backups(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "backups").glob("before-upgrade-*.sqlite"))


@pytest.fixture
def old_release(data_dir) -> Path:
    """A data directory holding the database release 4af059f made (and nothing else of it)."""
    data_dir.mkdir(mode=0o700)
    con = sqlite3.connect(data_dir / "broadcaster.db")
    con.executescript(FIXTURE.read_text(encoding="utf-8"))
    con.execute("PRAGMA journal_mode=WAL")  # as that release left it
    con.close()
    return data_dir


def _settings(data_dir: Path):
    return load_settings(data_dir, engine_order=["espeak"])


def test_head_constant_is_the_script_directorys_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from broadcaster.migrations import HEAD, MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


def test_a_data_directory_of_the_previous_release_opens_with_every_row(old_release):
    from broadcaster import accounts
    from broadcaster.station import bulletins
    from broadcaster.migrations import HEAD
    from broadcaster.models import AuditEntry, SlotRecord

    db = old_release / "broadcaster.db"
    before = _dump(db)
    old = {t: _rows(db, t) for t in ("bulletin", "as_run", "web_user", "slot", "audit")}
    assert [len(old[t]) for t in old] == [4, 5, 4, 2, 13]  # the fixture is what it says
    assert _revision(db) is None

    station = Station.open(_settings(old_release))
    try:
        assert _revision(db) == HEAD
        (backup,) = _upgrade_backups(old_release)
        assert backup.name.startswith("before-upgrade-pre-alembic-")
        assert backup.stat().st_mode & 0o777 == 0o600
        con = sqlite3.connect(backup)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
        assert _dump(backup) == before  # a valid copy of the old database, taken before any change

        with Session(station.db) as s:
            for row in old["bulletin"]:
                got = bulletins.get(session=s, bulletin_id=row["id"])
                assert (got.title, got.text, got.status.name, got.bulletin_class.name, got.frequency.name,
                        got.times, got.topic, got.created_by) == (
                    row["title"], row["text"], row["status"], row["bulletin_class"], row["frequency"],
                    row["times"], row["topic"], row["created_by"])
            assert bulletins.get(session=s, bulletin_id=4).slot_names == ["sang", "chieu"]
            users = {u.name: u for u in accounts.list_users(session=s)}
            assert {(r["name"], r["role"], r["full_name"]) for r in old["web_user"]} == {
                (u.name, u.role.name, u.full_name) for u in users.values()}
            # the accounts still log in with their old passwords (hashes kept as they were)
            assert accounts.authenticate(session=s, name="lanhdao", password="mat-khau-2026") is not None
            audit = s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
            assert [(a.id, a.user, a.action, a.object_type, a.object_id, a.detail) for a in audit] == [
                (r["id"], r["user"], r["action"], r["object_type"], r["object_id"], r["detail"])
                for r in old["audit"]]
            slots = s.exec(select(SlotRecord).order_by(SlotRecord.id)).all()
            assert [(x.id, x.name, x.kind.name, x.at.strftime("%H:%M:%S.%f"), x.max_minutes, x.enabled)
                    for x in slots] == [(r["id"], r["name"], r["kind"], r["at"], r["max_minutes"], bool(r["enabled"]))
                                        for r in old["slot"]]
        log = {r.id: r for r in station.as_run_log()}
        assert sorted(log) == [r["id"] for r in old["as_run"]]
        for row in old["as_run"]:
            got = log[row["id"]]
            assert (got.title, got.status.name, got.kind.name, got.reason, got.slot, got.operator,
                    got.bulletin_id) == (row["title"], row["status"], row["kind"], row["reason"], row["slot"],
                                         row["operator"], row["bulletin_id"])
        # the baseline gave the rows about a bulletin its class (what reports did at query time)
        assert {r["id"]: r["bulletin_class"] for r in _rows(db, "as_run") if r["bulletin_id"]} == {
            1: "emergency", 3: "emergency"}
    finally:
        station.close()
    # opening it again: already at head, so nothing is copied
    Station.open(_settings(old_release)).close()
    assert len(_upgrade_backups(old_release)) == 1


def test_the_baseline_makes_the_report_trigger_and_indexes(old_release):
    db = old_release / "broadcaster.db"
    Station.open(_settings(old_release)).close()
    con = sqlite3.connect(db)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger')")}
    con.close()
    assert {"as_run_bulletin_class", "ix_as_run_operator_started", "ix_as_run_class_started",
            "ix_login_failure_pair"} <= names


def test_an_up_to_date_database_takes_no_backup(data_dir):
    from broadcaster.migrations import HEAD

    Station.open(_settings(data_dir)).close()  # a new station: no tables yet, nothing to keep
    db = data_dir / "broadcaster.db"
    assert _upgrade_backups(data_dir) == [] and _revision(db) == HEAD
    before = _dump(db)
    Station.open(_settings(data_dir)).close()
    assert _upgrade_backups(data_dir) == [] and _dump(db) == before


FAILING_REVISION = '''
from alembic import op

revision = "0099_fails"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
    op.execute("ALTER TABLE bulletin ADD COLUMN half_done INTEGER")
    op.execute("UPDATE bulletin SET title = 'gone'")
    op.execute("DELETE FROM audit")
    raise RuntimeError("revision failed midway")


def downgrade():
    pass
'''


def test_a_revision_that_fails_midway_leaves_the_database_as_it_was(old_release, tmp_path, monkeypatch):
    import broadcaster.migrations as migrations

    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0099_fails.py").write_text(FAILING_REVISION.format(down=migrations.HEAD))
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", scripts)
    monkeypatch.setattr(migrations, "HEAD", "0099_fails")
    db = old_release / "broadcaster.db"
    before = _dump(db)
    with pytest.raises(ConfigError) as caught:
        Station.open(_settings(old_release))
    assert "\n" not in str(caught.value) and "revision failed midway" in str(caught.value)
    # the baseline, the login_failure revision and the failing one are all rolled back
    assert _dump(db) == before and _revision(db) is None
    assert len(_upgrade_backups(old_release)) == 1


def test_a_database_of_a_newer_release_is_refused_untouched(data_dir):
    Station.open(_settings(data_dir)).close()
    db = data_dir / "broadcaster.db"
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '0107_from_the_future'")
    con.commit()
    con.close()
    before = _dump(db)
    with pytest.raises(ConfigError, match="phiên bản mới hơn.*0107_from_the_future"):
        Station.open(_settings(data_dir))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env["BROADCASTER_DATA_DIR"] = str(data_dir)
    r = subprocess.run([str(BIN), "bulletin", "list"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode != 0
    lines = (r.stdout + r.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: ") and "newer release" in lines[0], lines
    assert _dump(db) == before and _upgrade_backups(data_dir) == []


NEW_DB_IMPORTS = """
import sys
from broadcaster.config import load_settings
from broadcaster.station.facade import Station

Station.open(load_settings(sys.argv[1], engine_order=["espeak"])).close()
print(sorted(m for m in sys.modules if m.split(".")[0] in ("alembic", "mako")))
"""


def test_a_new_database_is_made_without_importing_alembic(data_dir):
    """A brand-new data directory needs no upgrade: create_all, the trigger and the version row,
    with Alembic and Mako never imported (they cost a waiting station ~11 MB)."""
    from broadcaster.migrations import HEAD

    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    r = subprocess.run([sys.executable, "-c", NEW_DB_IMPORTS, str(data_dir)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
    assert _revision(data_dir / "broadcaster.db") == HEAD


def _schema(path: Path) -> list[tuple]:
    """sqlite_master as comparable rows: the DDL with its whitespace normalised (create_all
    writes tabs, the frozen revisions spaces)."""
    import re

    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        version = con.execute("SELECT version FROM schema_version").fetchall()
        # a table is its columns (name, type, not null, default, primary key), in any order: a
        # revision's ADD COLUMN appends where create_all writes the model's order, and SQLite
        # cannot reorder columns, so the order is the one thing the two paths may differ in
        columns = {
            name: sorted(tuple(col[1:]) for col in con.execute(f'PRAGMA table_info("{name}")'))
            for kind, name, _tbl, _sql in rows if kind == "table"
        }
    finally:
        con.close()

    def norm(sql):
        if sql is None:
            return None
        sql = re.sub(r"\s+", " ", sql)
        return re.sub(r"\s*([(),])\s*", r"\1", sql).strip()

    return [(t, n, tbl, columns[n] if t == "table" else norm(sql)) for t, n, tbl, sql in rows] + [
        ("schema_version", version)
    ]


def test_a_new_database_has_the_schema_the_migrations_make(data_dir, old_release, tmp_path):
    """The direct creation of a new database and the Alembic path can never drift: an empty
    database upgraded by the revisions, the previous release's upgraded, and a new one agree."""
    from broadcaster.db import make_engine, upgrade_with_alembic

    # old_release filled data_dir: the new station goes elsewhere
    new_dir = tmp_path / "new"
    Station.open(_settings(new_dir)).close()
    Station.open(_settings(old_release)).close()
    by_alembic = tmp_path / "by-alembic.db"
    engine = make_engine(by_alembic)
    try:
        upgrade_with_alembic(engine, None, has_tables=False, now=None)
    finally:
        engine.dispose()
    new = _schema(new_dir / "broadcaster.db")
    assert new == _schema(by_alembic)
    assert new == _schema(old_release / "broadcaster.db")
