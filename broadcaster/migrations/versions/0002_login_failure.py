"""The login_failure table (issue 9: failed logins survive a restart).

Databases made between 4af059f and the first Alembic release may have it already (create_all
made it): created only where missing.

Revision ID: 0002_login_failure
Revises: 0001_baseline
"""

from alembic import op
from sqlalchemy import text

revision = "0002_login_failure"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

DDL = [
    """CREATE TABLE IF NOT EXISTS login_failure (
    id INTEGER NOT NULL,
    at FLOAT NOT NULL,
    name VARCHAR(64) NOT NULL,
    client VARCHAR(64) NOT NULL,
    PRIMARY KEY (id)
)""",
    "CREATE INDEX IF NOT EXISTS ix_login_failure_at ON login_failure (at)",
    "CREATE INDEX IF NOT EXISTS ix_login_failure_client ON login_failure (client, at)",
    "CREATE INDEX IF NOT EXISTS ix_login_failure_pair ON login_failure (name, client, at)",
]


def upgrade() -> None:
    conn = op.get_bind()
    for ddl in DDL:
        conn.execute(text(ddl))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS login_failure")
