"""Urgent announcements for some zones (issue 14 item 3): as_run.zones, the zones an urgent row
went to (a JSON list of zone names); NULL = every cluster, as every row before this release.

Revision ID: 0006_urgent_zones
Revises: 0005_receivers
"""

from alembic import op
from sqlalchemy import text

revision = "0006_urgent_zones"
down_revision = "0005_receivers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    present = {row[1] for row in conn.execute(text('PRAGMA table_info("as_run")'))}
    if "zones" not in present:
        conn.execute(text('ALTER TABLE "as_run" ADD COLUMN "zones" JSON'))


def downgrade() -> None:
    op.execute('ALTER TABLE "as_run" DROP COLUMN "zones"')
