"""Alembic environment: veo31 runs migrations itself (store.db.migrate), handing over its own connection."""

from __future__ import annotations

from alembic import context

from veo31.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through veo31.store.db.migrate(engine)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
