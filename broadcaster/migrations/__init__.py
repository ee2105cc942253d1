"""Alembic migrations of the station's database (run by db.create_schema at every start).

The configuration is programmatic (db.migrate): no alembic.ini at run time. To write a new
revision, change the models, then copy versions/0002_login_failure.py as the pattern (plain SQL
through `op`, idempotent where a database made before Alembic may already have the change) and
set HEAD below; tests/core/test_migrations.py checks that HEAD is the script directory's head.
"""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent
# the newest revision: a database already there is opened without importing Alembic at all
HEAD = "0006_urgent_zones"
