"""Alembic environment: runs on the connection `upgrade_schema` hands over."""

from alembic import context

from safeguard.storage.sql.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached from the alembic CLI
    raise RuntimeError("run migrations through safeguard.storage.sql.engine.upgrade_schema")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
