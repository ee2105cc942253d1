"""Baseline: any database made before Alembic, brought to the schema of release 4af059f.

A database without an alembic_version table was made by some earlier release: it may lack tables
(made by create_all in later releases), columns (added by the former db.add_missing_columns), the
as_run indexes (the former reports.ensure_indexes) and the trigger that gives as-run rows their
bulletin's class (the former reports.prepare_database). This revision does what those did, and only
what is missing (idempotent): on an empty database it creates the 4af059f schema. The DDL below is
frozen: generated once from the models of 4af059f (SQLAlchemy's SQLite DDL, as create_all ran it),
so later model changes never alter what this revision does; they get revisions of their own.

Revision ID: 0001_baseline
Revises: (none)
"""

from alembic import op
from sqlalchemy import inspect, text

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

TABLES = {
    "as_run": """
CREATE TABLE as_run (
    id INTEGER NOT NULL,
    bulletin_id INTEGER,
    title VARCHAR NOT NULL,
    path VARCHAR,
    slot VARCHAR,
    engine VARCHAR,
    status VARCHAR(11) NOT NULL,
    reason VARCHAR,
    planned_at DATETIME,
    started_at DATETIME NOT NULL,
    ended_at DATETIME,
    duration_s FLOAT,
    kind VARCHAR(9) NOT NULL,
    bulletin_class VARCHAR(9),
    requested_at DATETIME,
    operator VARCHAR,
    PRIMARY KEY (id)
)""",
    "audit": """
CREATE TABLE audit (
    id INTEGER NOT NULL,
    at DATETIME NOT NULL,
    user VARCHAR,
    action VARCHAR(64) NOT NULL,
    object_type VARCHAR(64) NOT NULL,
    object_id VARCHAR(64),
    detail VARCHAR,
    PRIMARY KEY (id)
)""",
    "bulletin": """
CREATE TABLE bulletin (
    title VARCHAR(300) NOT NULL,
    text VARCHAR NOT NULL,
    bulletin_class VARCHAR(9) NOT NULL,
    valid_from DATE,
    valid_until DATE,
    frequency VARCHAR(12) NOT NULL,
    times INTEGER,
    slot_names JSON,
    topic VARCHAR(200),
    id INTEGER NOT NULL,
    status VARCHAR(9) NOT NULL,
    created_at DATETIME NOT NULL,
    approved_at DATETIME,
    item_path VARCHAR,
    item_engine VARCHAR,
    item_duration_s FLOAT,
    render_error VARCHAR,
    recording_path VARCHAR,
    created_by VARCHAR,
    updated_at DATETIME,
    updated_by VARCHAR,
    submitted_at DATETIME,
    approved_by VARCHAR,
    review_comment VARCHAR,
    PRIMARY KEY (id)
)""",
    "scheduler_state": """
CREATE TABLE scheduler_state (
    "key" VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY ("key")
)""",
    "slot": """
CREATE TABLE slot (
    kind VARCHAR(9) NOT NULL,
    at TIME NOT NULL,
    weekdays JSON,
    date_from DATE,
    date_until DATE,
    on_date DATE,
    max_minutes INTEGER NOT NULL,
    source VARCHAR,
    duration_min INTEGER,
    enabled BOOLEAN NOT NULL,
    id INTEGER NOT NULL,
    name VARCHAR(100) NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (name)
)""",
    "topic": """
CREATE TABLE topic (
    position INTEGER NOT NULL,
    id INTEGER NOT NULL,
    name VARCHAR(200) NOT NULL,
    created_at DATETIME NOT NULL,
    created_by VARCHAR,
    PRIMARY KEY (id),
    UNIQUE (name)
)""",
    "web_user": """
CREATE TABLE web_user (
    id INTEGER NOT NULL,
    name VARCHAR(64) NOT NULL,
    full_name VARCHAR(200),
    role VARCHAR(8) NOT NULL,
    password_hash VARCHAR NOT NULL,
    active BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL,
    created_by VARCHAR,
    PRIMARY KEY (id),
    UNIQUE (name)
)""",
    "web_session": """
CREATE TABLE web_session (
    id VARCHAR(64) NOT NULL,
    user_id INTEGER NOT NULL,
    csrf_token VARCHAR(64) NOT NULL,
    created_at DATETIME NOT NULL,
    last_seen DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    flash VARCHAR,
    PRIMARY KEY (id),
    FOREIGN KEY(user_id) REFERENCES web_user (id)
)""",
}

# what db.add_missing_columns (4af059f) added for each column an older table lacked: nullable,
# with the model's scalar default
COLUMNS = {
    "as_run": {
        "bulletin_id": "INTEGER",
        "title": "VARCHAR",
        "path": "VARCHAR",
        "slot": "VARCHAR",
        "engine": "VARCHAR",
        "status": "VARCHAR(11) DEFAULT 'on_air'",
        "reason": "VARCHAR",
        "planned_at": "DATETIME",
        "started_at": "DATETIME",
        "ended_at": "DATETIME",
        "duration_s": "FLOAT",
        "kind": "VARCHAR(9) DEFAULT 'programme'",
        "bulletin_class": "VARCHAR(9)",
        "requested_at": "DATETIME",
        "operator": "VARCHAR",
    },
    "audit": {
        "at": "DATETIME",
        "user": "VARCHAR",
        "action": "VARCHAR(64)",
        "object_type": "VARCHAR(64)",
        "object_id": "VARCHAR(64)",
        "detail": "VARCHAR",
    },
    "bulletin": {
        "title": "VARCHAR(300)",
        "text": "VARCHAR",
        "bulletin_class": "VARCHAR(9) DEFAULT 'normal'",
        "valid_from": "DATE",
        "valid_until": "DATE",
        "frequency": "VARCHAR(12) DEFAULT 'every_slot'",
        "times": "INTEGER",
        "slot_names": "JSON",
        "topic": "VARCHAR(200)",
        "status": "VARCHAR(9) DEFAULT 'draft'",
        "created_at": "DATETIME",
        "approved_at": "DATETIME",
        "item_path": "VARCHAR",
        "item_engine": "VARCHAR",
        "item_duration_s": "FLOAT",
        "render_error": "VARCHAR",
        "recording_path": "VARCHAR",
        "created_by": "VARCHAR",
        "updated_at": "DATETIME",
        "updated_by": "VARCHAR",
        "submitted_at": "DATETIME",
        "approved_by": "VARCHAR",
        "review_comment": "VARCHAR",
    },
    "scheduler_state": {
        "value": "VARCHAR",
        "updated_at": "DATETIME",
    },
    "slot": {
        "kind": "VARCHAR(9) DEFAULT 'recurring'",
        "at": "TIME",
        "weekdays": "JSON",
        "date_from": "DATE",
        "date_until": "DATE",
        "on_date": "DATE",
        "max_minutes": "INTEGER DEFAULT 30",
        "source": "VARCHAR",
        "duration_min": "INTEGER",
        "enabled": "BOOLEAN DEFAULT 1",
        "name": "VARCHAR(100)",
        "created_at": "DATETIME",
    },
    "topic": {
        "position": "INTEGER DEFAULT 0",
        "name": "VARCHAR(200)",
        "created_at": "DATETIME",
        "created_by": "VARCHAR",
    },
    "web_user": {
        "name": "VARCHAR(64)",
        "full_name": "VARCHAR(200)",
        "role": "VARCHAR(8) DEFAULT 'editor'",
        "password_hash": "VARCHAR",
        "active": "BOOLEAN DEFAULT 1",
        "created_at": "DATETIME",
        "created_by": "VARCHAR",
    },
    "web_session": {
        "user_id": "INTEGER",
        "csrf_token": "VARCHAR(64)",
        "created_at": "DATETIME",
        "last_seen": "DATETIME",
        "expires_at": "DATETIME",
        "flash": "VARCHAR",
    },
}

INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_as_run_bulletin_id ON as_run (bulletin_id)",
    "CREATE INDEX IF NOT EXISTS ix_as_run_class_started ON as_run (bulletin_class, started_at)",
    "CREATE INDEX IF NOT EXISTS ix_as_run_kind ON as_run (kind)",
    "CREATE INDEX IF NOT EXISTS ix_as_run_kind_started ON as_run (kind, started_at)",
    "CREATE INDEX IF NOT EXISTS ix_as_run_operator_started ON as_run (operator, started_at)",
    "CREATE INDEX IF NOT EXISTS ix_as_run_planned_slot ON as_run (planned_at, slot)",
    "CREATE INDEX IF NOT EXISTS ix_as_run_started_at ON as_run (started_at)",
    "CREATE INDEX IF NOT EXISTS ix_as_run_status ON as_run (status)",
    "CREATE INDEX IF NOT EXISTS ix_as_run_status_started ON as_run (status, started_at)",
    "CREATE INDEX IF NOT EXISTS ix_audit_at ON audit (at)",
    "CREATE INDEX IF NOT EXISTS ix_audit_object ON audit (object_type, object_id)",
    "CREATE INDEX IF NOT EXISTS ix_audit_user ON audit (user)",
    "CREATE INDEX IF NOT EXISTS ix_bulletin_status ON bulletin (status)",
    "CREATE INDEX IF NOT EXISTS ix_web_session_expires_at ON web_session (expires_at)",
    "CREATE INDEX IF NOT EXISTS ix_web_session_user_id ON web_session (user_id)",
]

SCHEMA_VERSION_DDL = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"

CLASS_TRIGGER = "as_run_bulletin_class"
CLASS_TRIGGER_DDL = f"""
CREATE TRIGGER IF NOT EXISTS {CLASS_TRIGGER} AFTER INSERT ON as_run
WHEN NEW.bulletin_class IS NULL AND NEW.bulletin_id IS NOT NULL
BEGIN
    UPDATE as_run SET bulletin_class = (SELECT bulletin_class FROM bulletin WHERE id = NEW.bulletin_id)
    WHERE id = NEW.id;
END
"""
# rows written before the trigger existed get their class once
CLASS_BACKFILL = (
    "UPDATE as_run SET bulletin_class = (SELECT bulletin_class FROM bulletin WHERE id = as_run.bulletin_id) "
    "WHERE bulletin_class IS NULL AND bulletin_id IS NOT NULL"
)


def upgrade() -> None:
    conn = op.get_bind()
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    for name, ddl in TABLES.items():
        if name not in existing:
            conn.execute(text(ddl))
            continue
        present = {c["name"] for c in inspector.get_columns(name)}
        for column, column_ddl in COLUMNS[name].items():
            if column not in present:
                conn.execute(text(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {column_ddl}'))
    for ddl in INDEXES:
        conn.execute(text(ddl))
    conn.execute(text(SCHEMA_VERSION_DDL))
    if conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar() is None:
        conn.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
    conn.execute(text(CLASS_TRIGGER_DDL))
    conn.execute(text(CLASS_BACKFILL))


def downgrade() -> None:
    raise NotImplementedError("the baseline cannot be undone: restore the before-upgrade backup instead")
