"""The driver-level connection pool and statement runner."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
import sqlalchemy as sa

from fulfilment.db import Database
from fulfilment.errors import ServiceUnavailable
from fulfilment.settings import Settings
from fulfilment.tables import accounts


def test_the_pool_holds_pool_size_connections(database_url: str) -> None:
    database = Database(Settings(database_url=database_url, pool_size=2, pool_timeout_seconds=1))
    try:
        with ExitStack() as stack:
            held = [stack.enter_context(database.connect()) for _ in range(2)]
            assert held[0].raw is not held[1].raw
            with pytest.raises(ServiceUnavailable), database.connect():
                pass
        with database.connect() as again:
            assert again.raw in {held[0].raw, held[1].raw}
    finally:
        database.close()


def test_a_failed_transaction_rolls_back(database: Database) -> None:
    insert = sa.insert(accounts).values(
        subdomain=sa.bindparam("subdomain"), name="x", timezone="UTC", created_at=sa.func.now()
    )
    count = sa.select(sa.func.count()).select_from(accounts)

    with (  # noqa: PT012 - the failure must come after the insert
        pytest.raises(RuntimeError),
        database.connect() as connection,
        connection.transaction(),
    ):
        connection.execute(insert, {"subdomain": "gone"})
        raise RuntimeError("abort")

    assert database.read(lambda c: c.one(count, {})) == (0,)
    database.write_sync(lambda c: c.execute(insert, {"subdomain": "kept"}))
    assert database.read(lambda c: c.one(count, {})) == (1,)


def test_an_unreachable_database_is_503() -> None:
    from starlette.testclient import TestClient

    from fulfilment.app import create_app

    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/nothing")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/fulfilment/customers", auth=("fk_anything", "X"))

    assert answer.status_code == 503
    assert answer.json()["error_code"] == 104
    assert "Traceback" not in answer.text
