"""`python -m bench.outbox_bytes`: the bytes one customer change adds to the webhook tables
when its account has 300 active hooks on the event, on SQLite and PostgreSQL. The changes
go through the API (a PUT each), with the worker off, so that nothing is delivered or
forgotten while the tables are measured."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment import migrate
from fulfilment.accounts import service as accounts
from fulfilment.app import create_app
from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.tables import hooks, metadata

from .fill import throwaway_database

HOOKS = 300
CHANGES = 20
EVENT = "fulfilment_customers.changed"


def _tables() -> list[str]:
    """Every table the outbox of hooks writes to."""
    return [name for name in metadata.tables if name.startswith("hook_")]


def stored_bytes(engine: sa.Engine) -> int:
    """The bytes the outbox's tables and their indexes take: SQLite's pages (dbstat),
    PostgreSQL's relations (TOAST and indexes included)."""
    names = _tables()
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            owned = sa.text(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN "
                "(SELECT name FROM sqlite_master WHERE tbl_name IN :names)"
            ).bindparams(sa.bindparam("names", expanding=True))
            return int(connection.execute(owned, {"names": names}).scalar_one())
        connection.exec_driver_sql("CHECKPOINT")
        return sum(
            int(
                connection.execute(
                    sa.text("SELECT pg_total_relation_size(:name)"), {"name": name}
                ).scalar_one()
            )
            for name in names
        )


def measure(url: str) -> tuple[float, int]:
    """(bytes per change, bytes of the payload as sent) for the database at `url`."""
    settings = Settings(
        database_url=url,
        hooks_worker=False,
        hooks_allow_private=True,
        rate_limit="1000000/minute",
        encryption_key="bench-outbox-bytes-key-0123456789abcdef",
    )
    database = Database(settings)
    migrate.upgrade(database)

    async def tenant(connection: Any) -> tuple[int, str]:
        account = await accounts.create_account(connection, "Bytes BV", "bytes")
        _, key = await accounts.create_api_key(connection, account, "bench")
        return account.id, key

    account_id, key = database.write_sync(tenant)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "account_id": account_id,
            "name": f"receiver {number}",
            "event": EVENT,
            "address": f"http://127.0.0.1:9/{number}",
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for number in range(HOOKS)
    ]
    with database.engine.begin() as connection:
        connection.execute(sa.insert(hooks), rows)
    auth = (key, "")
    path = "/api/v1/fulfilment/customers"
    with TestClient(create_app(settings), base_url="http://bytes.localhost") as client:
        customer = client.post(
            path,
            json={
                "name": "Bytes customer with a name of ordinary length",
                "emailaddress": "orders@bytes-customer.example.com",
                "language": "nl",
            },
            auth=auth,
        ).json()
        target = f"{path}/{customer['idfulfilment_customer']}"
        before = stored_bytes(database.engine)
        payload = 0
        for number in range(CHANGES):
            answer = client.put(
                target, json={"name": f"Bytes customer, change {number}"}, auth=auth
            )
            assert answer.status_code == 200, answer.text
            payload = len(answer.content)
        after = stored_bytes(database.engine)
    database.close()
    return (after - before) / CHANGES, payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    options = parser.parse_args()
    for backend in ("sqlite", "postgresql"):
        with throwaway_database(backend, options.postgres) as url:
            per_change, payload = measure(url)
        print(
            f"{backend}: {per_change:,.0f} bytes per change with {HOOKS} hooks "
            f"({per_change / HOOKS:,.0f} per hook; the customer as answered: {payload} bytes)"
        )


if __name__ == "__main__":
    main()
