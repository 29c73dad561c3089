"""The Alembic migrations build, from nothing, exactly the schema the code declares."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fulfilment import migrate
from fulfilment.db import Database
from fulfilment.tables import metadata


def empty(database: Database) -> None:
    with database.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(
                sa.text(
                    f"DROP TABLE IF EXISTS {table.name} CASCADE"
                    if not database.is_sqlite
                    else f"DROP TABLE IF EXISTS {table.name}"
                )
            )
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def test_migrations_create_the_declared_schema(database: Database) -> None:
    empty(database)
    with database.engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []

    migrate.upgrade(database)

    with database.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), metadata
        )
    assert differences == []


def test_migrations_go_down_and_up_again(database: Database) -> None:
    empty(database)
    migrate.upgrade(database)
    migrate.downgrade(database, "base")
    with database.engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(database)
    with database.engine.connect() as connection:
        assert {t.name for t in metadata.sorted_tables} <= set(
            sa.inspect(connection).get_table_names()
        )
