"""The data path: units of work on psycopg's async pool or on SQLite, their time limits, and
how they recover from dropped connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

import psycopg
import pytest
import sqlalchemy as sa

from fulfilment.db import Connection, Database, Query, run_to_completion
from fulfilment.errors import ServiceUnavailable
from fulfilment.settings import Settings
from fulfilment.tables import accounts


class Count(NamedTuple):
    accounts: int


class Slept(NamedTuple):
    slept: None


COUNT = Query(sa.select(sa.func.count().label("accounts")).select_from(accounts), Count)
INSERT = sa.insert(accounts).values(
    subdomain=sa.bindparam("subdomain"), name="x", timezone="UTC", created_at=sa.func.now()
)


def sleeping(seconds: float) -> Callable[[Connection], Coroutine[Any, Any, Any]]:
    statement = Query(sa.select(sa.func.pg_sleep(seconds).label("slept")), Slept)

    async def work(connection: Connection) -> Any:
        return await connection.one(statement, {})

    return work


def on_loop(database: Database, unit: Coroutine[Any, Any, Any]) -> Any:
    """Run `unit` on a new event loop with the database's pool open, then close it."""

    async def main() -> Any:
        await database.start()
        try:
            return await unit
        finally:
            await database.aclose()

    return asyncio.run(main())


def test_a_failed_transaction_rolls_back(database: Database) -> None:
    async def insert_then_fail(connection: Connection) -> None:
        await connection.execute(INSERT, {"subdomain": "gone"})
        raise RuntimeError("abort")

    async def scenario() -> tuple[Any, Any]:
        with pytest.raises(RuntimeError):
            await database.write(insert_then_fail)
        before = await database.read(lambda c: c.one(COUNT, {}))
        await database.write(lambda c: c.execute(INSERT, {"subdomain": "kept"}))
        return before, await database.read(lambda c: c.one(COUNT, {}))

    assert on_loop(database, scenario()) == ((0,), (1,))


def test_a_unit_that_begins_with_a_batch_is_one_transaction(database: Database) -> None:
    # The jobs engine records finished jobs this way: an attempt's log, then its state.
    async def batch_then_fail(connection: Connection) -> None:
        await connection.execute_many(INSERT, [{"subdomain": "one"}, {"subdomain": "two"}])
        await connection.execute(INSERT, {"subdomain": "three"})
        raise RuntimeError("abort")

    async def scenario() -> tuple[Any, Any]:
        with pytest.raises(RuntimeError):
            await database.write(batch_then_fail)
        before = await database.read(lambda c: c.one(COUNT, {}))
        await database.write(
            lambda c: c.execute_many(INSERT, [{"subdomain": "four"}, {"subdomain": "five"}])
        )
        return before, await database.read(lambda c: c.one(COUNT, {}))

    assert on_loop(database, scenario()) == ((0,), (2,))


def test_a_unit_on_a_blocking_connection_may_not_wait_for_anything_else() -> None:
    async def waits() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="waited for something else"):
        run_to_completion(waits())


@pytest.mark.postgres
def test_waiting_for_the_server_leaves_the_event_loop_free(postgres_database: str) -> None:
    database = Database(Settings(database_url=postgres_database, pool_size=2))
    finished: list[str] = []

    async def slow() -> None:
        await database.read(sleeping(0.5))
        finished.append("slow")

    async def quick() -> None:
        await asyncio.sleep(0.05)
        await database.read(lambda c: c.one(COUNT, {}))
        finished.append("quick")

    async def scenario() -> None:
        await asyncio.gather(slow(), quick())

    on_loop(database, scenario())
    assert finished == ["quick", "slow"]


@pytest.mark.postgres
def test_waiting_for_a_connection_is_bounded(postgres_database: str) -> None:
    database = Database(
        Settings(database_url=postgres_database, pool_size=2, pool_timeout_seconds=1)
    )

    async def third_after_two_sleepers() -> float:
        sleepers = [asyncio.create_task(database.read(sleeping(2.5))) for _ in range(2)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await database.read(lambda c: c.one(COUNT, {}))
        waited = time.monotonic() - started
        await asyncio.gather(*sleepers)
        return waited

    waited = on_loop(database, third_after_two_sleepers())
    assert 0.8 < waited < 2.0


@pytest.mark.postgres
def test_a_statement_past_the_timeout_is_ended_by_the_server(postgres_database: str) -> None:
    database = Database(Settings(database_url=postgres_database, statement_timeout_seconds=1))
    started = time.monotonic()
    with pytest.raises(psycopg.errors.QueryCanceled):
        on_loop(database, database.read(sleeping(5)))
    assert time.monotonic() - started < 2.5


@pytest.mark.postgres
def test_killed_backends_cost_no_failed_unit(postgres_database: str) -> None:
    database = Database(Settings(database_url=postgres_database, pool_size=3))
    name = sa.make_url(postgres_database).database
    kill = sa.text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = :name AND pid <> pg_backend_pid() AND application_name <> 'keep'"
    )
    admin = sa.create_engine(
        sa.make_url(postgres_database),
        isolation_level="AUTOCOMMIT",
        connect_args={"application_name": "keep"},
    )

    async def scenario() -> list[Any]:
        # Fill the pool, so that every connection it holds is one the server will drop.
        await asyncio.gather(*(database.read(sleeping(0.2)) for _ in range(3)))
        with admin.connect() as connection:
            killed = connection.execute(kill, {"name": name}).scalar_one()
        assert killed >= 3
        reads = [await database.read(lambda c: c.one(COUNT, {})) for _ in range(3)]
        writes = [
            await database.write(lambda c, n=n: c.execute(INSERT, {"subdomain": f"after{n}"}))
            for n in range(3)
        ]
        return reads + writes

    try:
        results = on_loop(database, scenario())
    finally:
        admin.dispose()
    assert len(results) == 6


def test_an_unreachable_database_is_503() -> None:
    from starlette.testclient import TestClient

    from fulfilment.app import create_app

    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:1/nothing", pool_timeout_seconds=1
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/fulfilment/customers", auth=("fk_anything", "X"))

    assert answer.status_code == 503
    assert answer.json()["error_code"] == 104
    assert "Traceback" not in answer.text
