"""PLACEHOLDER for helper h4's 0005_receivers (issue 14: the receivers tables).

h6 works apart from h4 and needs the revision chain 0004 → 0005 → 0006 to exist; this file only
holds the chain's place and changes nothing. The integrator takes h4's real 0005_receivers.py
over it.

Revision ID: 0005_receivers
Revises: 0004_bulletin_render
"""

revision = "0005_receivers"
down_revision = "0004_bulletin_render"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
