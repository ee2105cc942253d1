"""Loudspeaker clusters (issue 14): the `receivers` registry (token kept as sha256 only) and the
rows each cluster uploads from its own as-run log (`receiver_log`, idempotent by local_id).

Revision ID: 0005_receivers
Revises: 0004_bulletin_render
"""

from alembic import op
from sqlalchemy import text

revision = "0005_receivers"
down_revision = "0004_bulletin_render"
branch_labels = None
depends_on = None

DDL = [
    """CREATE TABLE IF NOT EXISTS receivers (
    id INTEGER NOT NULL,
    name VARCHAR(60) NOT NULL,
    zone VARCHAR(40),
    zone_slug VARCHAR(40),
    token_hash VARCHAR(64) NOT NULL,
    created_at DATETIME NOT NULL,
    revoked_at DATETIME,
    last_seen DATETIME,
    last_status VARCHAR,
    PRIMARY KEY (id),
    UNIQUE (name),
    UNIQUE (token_hash)
)""",
    "CREATE INDEX IF NOT EXISTS ix_receivers_zone_slug ON receivers (zone_slug)",
    """CREATE TABLE IF NOT EXISTS receiver_log (
    id INTEGER NOT NULL,
    receiver_id INTEGER NOT NULL,
    local_id INTEGER NOT NULL,
    started_at DATETIME NOT NULL,
    ended_at DATETIME,
    kind VARCHAR(5) NOT NULL,
    mount VARCHAR,
    cause VARCHAR,
    stored_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(receiver_id) REFERENCES receivers (id)
)""",
    "CREATE INDEX IF NOT EXISTS ix_receiver_log_started ON receiver_log (started_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_receiver_log_local ON receiver_log (receiver_id, local_id)",
]


def upgrade() -> None:
    conn = op.get_bind()
    for ddl in DDL:
        conn.execute(text(ddl))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS receiver_log")
    op.execute("DROP TABLE IF EXISTS receivers")
