"""The Alembic migrations build, from nothing, exactly the schema the code declares."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from starlette.testclient import TestClient

from fulfilment import migrate
from fulfilment.app import create_app
from fulfilment.cli import main
from fulfilment.db import Database
from fulfilment.migrate import MigrationStopped
from fulfilment.settings import Settings
from fulfilment.tables import SEARCH_INDEX, declared, fulfilment_customers, metadata
from tests.factories import Tenant, fullwidth


@pytest.fixture(autouse=True)
def back_at_head(database: Database) -> Iterator[None]:
    """Each test leaves the schema at the head, even when it fails half-way: on
    PostgreSQL the database is shared by the tests of one process."""
    yield
    migrate.upgrade(database)


@pytest.fixture
def stop_service(client: TestClient) -> Callable[[], None]:
    """Stops the test's service: migrations run while no instance runs. A running engine
    would claim the rows under test and, on SQLite, hold the write lock the migration's
    DDL waits for."""
    return lambda: client.__exit__(None, None, None)


def empty(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {SEARCH_INDEX}"))
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
            MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": declared}
            ),
            metadata,
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


def _set_username(database: Database, customer_id: int, username: str, key: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(fulfilment_customers)
            .where(fulfilment_customers.c.idfulfilment_customer == customer_id)
            .values(username=username, username_key=key)
        )


def _keys(database: Database) -> dict[str, str]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(fulfilment_customers.c.username, fulfilment_customers.c.username_key)
        )
        return {username: key for username, key in rows if username is not None}


def test_upgrading_normalises_the_stored_username_keys(
    database: Database, tenant: Tenant, stop_service: Callable[[], None]
) -> None:
    tenant.create_customer(name="Composed", username="\u00c9mile")
    tenant.create_customer(name="Wide", username=fullwidth("WIDE"))
    tenant.create_customer(name="Plain", username="Plain")
    stop_service()
    migrate.downgrade(database, "0003")
    assert _keys(database) == {
        "\u00c9mile": "\u00e9mile",
        fullwidth("WIDE"): fullwidth("wide"),
        "Plain": "plain",
    }

    migrate.upgrade(database)

    assert _keys(database) == {
        "\u00c9mile": "\u00e9mile",
        fullwidth("WIDE"): "wide",
        "Plain": "plain",
    }


def test_upgrading_stops_on_usernames_that_become_the_same(
    database: Database, tenant: Tenant, other_tenant: Tenant, stop_service: Callable[[], None]
) -> None:
    partners = tenant.create_customer(name="Partners", username="partners")
    wide = tenant.create_customer(name="Wide", username="other")
    tenant.create_customer(name="Accent", username="\u00e9mile")
    combining = tenant.create_customer(name="Combining", username="emile2")
    elsewhere = other_tenant.create_customer(name="Elsewhere", username="elsewhere")
    stop_service()
    migrate.downgrade(database, "0003")
    # What an older version let in: look-alikes, each with its case-folded key.
    for customer, username in [
        (wide, fullwidth("PARTNERS")),
        (combining, "E\u0301mile"),
        (elsewhere, fullwidth("partners")),  # another account: no clash
    ]:
        _set_username(database, customer["idfulfilment_customer"], username, username.casefold())
    before = _keys(database)
    try:
        with pytest.raises(MigrationStopped) as stopped:
            migrate.upgrade(database)

        message = str(stopped.value)
        assert (
            f"account 'acme': usernames 'partners' (customer {partners['idfulfilment_customer']}), "
            "'"
            + fullwidth("PARTNERS")
            + f"' (customer {wide['idfulfilment_customer']}) are the same "
            "username now"
        ) in message
        assert "'\u00e9mile'" in message
        assert "'E\u0301mile'" in message
        assert "globex" not in message
        assert _keys(database) == before
        with database.engine.connect() as connection:
            assert migrate_version(connection) == "0003"

        # Once an operator renames one of each pair, the upgrade goes through.
        for customer, username in [(wide, "partners-2"), (combining, "emile-2")]:
            _set_username(database, customer["idfulfilment_customer"], username, username)
    finally:
        migrate.upgrade(database)
    assert _keys(database)[fullwidth("partners")] == "partners"


def test_a_stopped_upgrade_is_a_readable_message_on_the_command_line(
    database: Database, database_url: str, tenant: Tenant, stop_service: Callable[[], None]
) -> None:
    tenant.create_customer(name="Partners", username="partners")
    wide = tenant.create_customer(name="Wide", username="wide")
    stop_service()
    migrate.downgrade(database, "0003")
    _set_username(
        database,
        wide["idfulfilment_customer"],
        fullwidth("P") + "artners",
        fullwidth("p") + "artners",
    )
    try:
        result = CliRunner().invoke(
            main, ["db", "upgrade"], env={"FULFILMENT_DATABASE_URL": database_url}
        )

        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert "'partners'" in result.stderr
        assert "'" + fullwidth("P") + "artners'" in result.stderr
    finally:
        _set_username(database, wide["idfulfilment_customer"], "wide", "wide")
        migrate.upgrade(database)


def migrate_version(connection: sa.Connection) -> str:
    return str(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())


def test_waiting_deliveries_keep_their_payload_across_the_event_table(
    database: Database, settings: Settings, tenant: Tenant, stop_service: Callable[[], None]
) -> None:
    hook = tenant.post(
        "/api/v1/hooks",
        {
            "name": "Kept",
            "event": "fulfilment_customers.created",
            "address": "http://93.184.216.34/",
        },
    ).json()
    created = tenant.create_customer(name="Waiting")
    stop_service()
    migrate.downgrade(database, "0012")
    with database.engine.connect() as connection:
        [(idhook, data)] = connection.execute(sa.text("SELECT idhook, data FROM hook_deliveries"))
    assert (idhook, json.loads(data)) == (hook["idhook"], created)

    migrate.upgrade(database)

    with database.engine.connect() as connection:
        [(event, data)] = connection.execute(
            sa.text(
                "SELECT e.event, e.data FROM hook_deliveries d "
                "JOIN hook_events e ON e.idevent = d.idevent"
            )
        )
    assert (event, json.loads(data)) == ("fulfilment_customers.created", created)
    # New events are numbered after the moved ones.
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        replace(tenant, client=client).create_customer(name="After")
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM hook_events")).scalar_one() == 2


def test_mails_keep_their_state_across_the_engine_columns(
    database: Database, tenant: Tenant, stop_service: Callable[[], None]
) -> None:
    stop_service()
    migrate.downgrade(database, "0013")
    insert = sa.text(
        "INSERT INTO mail_outbox (account_id, kind, recipient, sender_name, subject, attempts, "
        "created_at, sent_at, abandoned_at, next_attempt_at) VALUES (:account, 'invitation', "
        ":recipient, 'Acme', 'Hi', 1, :created, :sent, :abandoned, :due)"
    )
    created = datetime(2026, 12, 1, 9)
    with database.engine.begin() as connection:
        for recipient, sent, abandoned, due in (
            ("sent@example.com", created, None, None),
            ("abandoned@example.com", None, created, None),
            ("waiting@example.com", None, None, created),
        ):
            values = {"recipient": recipient, "sent": sent, "abandoned": abandoned, "due": due}
            connection.execute(insert, {**values, "account": tenant.account.id, "created": created})

    migrate.upgrade(database)

    with database.engine.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT recipient, state, finished_at IS NOT NULL, next_attempt_at IS NOT NULL "
                "FROM mail_outbox ORDER BY id"
            )
        ).all()
    assert [tuple(row) for row in found] == [
        ("sent@example.com", "sent", True, True),
        ("abandoned@example.com", "failed", True, True),
        ("waiting@example.com", "pending", False, True),
    ]
    migrate.downgrade(database, "0013")
    with database.engine.connect() as connection:
        back = connection.execute(
            sa.text(
                "SELECT sent_at IS NOT NULL, abandoned_at IS NOT NULL, next_attempt_at IS NULL "
                "FROM mail_outbox ORDER BY id"
            )
        ).all()
    assert [tuple(row) for row in back] == [
        (True, False, True),
        (False, True, True),
        (False, False, False),
    ]
    migrate.upgrade(database)
