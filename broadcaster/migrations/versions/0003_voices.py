"""A bulletin's chosen voice, and the voice that spoke an item (issue 12 item 4).

bulletin.voice: engine:voice the editor chose (NULL = the station's default voice);
bulletin.item_voice and as_run.voice: the engine:voice that actually spoke the rendered item
(a fallback may differ from the choice). Rows from before stay NULL: their engine column says
which engine spoke them.

Revision ID: 0003_voices
Revises: 0002_login_failure
"""

from alembic import op
from sqlalchemy import text

revision = "0003_voices"
down_revision = "0002_login_failure"
branch_labels = None
depends_on = None

COLUMNS = [("bulletin", "voice", "VARCHAR(200)"), ("bulletin", "item_voice", "VARCHAR"), ("as_run", "voice", "VARCHAR")]


def upgrade() -> None:
    conn = op.get_bind()
    for table, column, ddl in COLUMNS:
        present = {row[1] for row in conn.execute(text(f'PRAGMA table_info("{table}")'))}
        if column not in present:
            conn.execute(text(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}'))


def downgrade() -> None:
    for table, column, _ in COLUMNS:
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
