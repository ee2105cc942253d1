"""Alembic's environment: db.migrate hands in the connection, already inside its one transaction.

transactional_ddl: SQLite can roll DDL back; db.migrate's engine makes pysqlite emit BEGIN itself
(the SQLAlchemy pysqlite "serializable isolation / savepoints, transactional DDL" recipe), so a
revision that fails leaves the database exactly as it was, alembic_version included.
"""

from alembic import context
from sqlmodel import SQLModel

from broadcaster import models  # noqa: F401  (target metadata for `alembic revision --autogenerate`)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, transactional_ddl=True,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
