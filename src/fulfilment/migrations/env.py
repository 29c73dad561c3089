"""Alembic environment: runs against the engine the caller hands over, or the settings' URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from fulfilment.tables import declared, metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from fulfilment.db import Database
        from fulfilment.settings import Settings

        database = Database(Settings.from_env())
        try:
            with database.engine.begin() as connection:
                _run(connection)
        finally:
            database.close()
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        include_name=declared,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `fulfilment db upgrade`")
run_migrations()
