"""Alembic environment: runs on the connection Legato hands over (see store/database.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from legato.store.tables import metadata

config = context.config


def run() -> None:
    """Run migrations on the given connection, or on `sqlalchemy.url` (for `alembic` on the command line)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
