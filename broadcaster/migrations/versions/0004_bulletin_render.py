"""Bulletin render state (issue 11 item 6: a bulletin renders in the background as soon as
it is written; a restart finds the renders it had not finished).

Revision ID: 0004_bulletin_render
Revises: 0003_voices
"""

from alembic import op
from sqlalchemy import text

revision = "0004_bulletin_render"
down_revision = "0003_voices"
branch_labels = None
depends_on = None

COLUMNS = {"render_state": "VARCHAR"}  # item_voice came with 0003_voices


def upgrade() -> None:
    conn = op.get_bind()
    present = {row[1] for row in conn.execute(text("PRAGMA table_info(bulletin)"))}
    for name, kind in COLUMNS.items():
        if name not in present:
            conn.execute(text(f"ALTER TABLE bulletin ADD COLUMN {name} {kind}"))
    # a bulletin rendered before this release is done; one approved without a file renders ahead as before
    conn.execute(text("UPDATE bulletin SET render_state = 'done' WHERE item_path IS NOT NULL AND render_state IS NULL"))


def downgrade() -> None:
    for name in COLUMNS:
        op.execute(f"ALTER TABLE bulletin DROP COLUMN {name}")
