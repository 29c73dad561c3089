"""SQLite's writer commits the units waiting for it together: what one unit does never
leaks into another's fate, and no caller hears of success before its commit."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from fulfilment.db import Connection, Database
from fulfilment.settings import Settings
from fulfilment.tables import accounts

SUBDOMAINS = sa.select(accounts.c.subdomain).order_by(accounts.c.subdomain)
INSERT = sa.insert(accounts).values(
    subdomain=sa.bindparam("subdomain"), name="x", timezone="UTC", created_at=sa.func.now()
)


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    path = tmp_path / "fulfilment.sqlite3"
    shutil.copy(sqlite_template, path)
    database = Database(Settings(database_url=f"sqlite:///{path}"))
    yield database
    database.close()


def inserting(subdomain: str, then: Any = None) -> Any:
    async def work(connection: Connection) -> str:
        await connection.execute(INSERT, {"subdomain": subdomain})
        if then is not None:
            then(connection)
        return subdomain

    return work


def stored(database: Database) -> list[str]:
    with database.connect() as connection:
        return [row[0] for row in connection.raw.execute(*_sql(database, SUBDOMAINS))]


def _sql(database: Database, statement: Any) -> tuple[str, Any]:
    compiled = database.compiled(statement)
    return compiled.sql, compiled.parameters({})


@contextlib.asynccontextmanager
async def held_writer(database: Database) -> AsyncIterator[None]:
    """The writer busy with a first unit until the block ends: units written inside it
    wait, and are committed together once it lets go."""
    holding, release = threading.Event(), threading.Event()

    def hold(_: Connection) -> None:
        holding.set()
        release.wait(10)

    first = asyncio.ensure_future(database.write(inserting("first", then=hold)))
    await asyncio.get_running_loop().run_in_executor(None, holding.wait, 10)
    try:
        yield
        await asyncio.sleep(0.05)  # all queued
    finally:
        release.set()
        await first


async def behind_a_held_writer(database: Database, units: list[Any]) -> list[Any]:
    """Run `units` behind a held writer; their outcomes, in order."""
    async with held_writer(database):
        rest = [asyncio.ensure_future(database.write(unit)) for unit in units]
    return await asyncio.gather(*rest, return_exceptions=True)


def test_waiting_units_share_a_transaction_and_each_is_answered(database: Database) -> None:
    names = [f"unit-{number:02}" for number in range(40)]
    commits = REGISTRY.get_sample_value("fulfilment_sqlite_commits_total") or 0.0
    outcomes = asyncio.run(behind_a_held_writer(database, [inserting(name) for name in names]))

    assert outcomes == names
    assert stored(database) == sorted(["first", *names])
    # The first alone, then the forty in one transaction.
    assert (database.writer.transactions, database.writer.units) == (2, 41)
    assert REGISTRY.get_sample_value("fulfilment_sqlite_commits_total") == commits + 2


def test_a_failing_unit_is_undone_alone(database: Database) -> None:
    def fail(_: Connection) -> None:
        raise ValueError("refused")

    outcomes = asyncio.run(
        behind_a_held_writer(
            database, [inserting("before"), inserting("failing", then=fail), inserting("after")]
        )
    )

    assert outcomes[0] == "before"
    assert outcomes[2] == "after"
    assert isinstance(outcomes[1], ValueError)
    assert stored(database) == ["after", "before", "first"]


def test_when_sqlite_ends_the_transaction_no_unit_in_it_is_answered_success(
    database: Database,
) -> None:
    def transaction_lost(connection: Connection) -> None:
        # What SQLite does on a full disk or an I/O error: the whole transaction is gone.
        connection.raw.execute("ROLLBACK")
        raise OSError("disk I/O error")

    outcomes = asyncio.run(
        behind_a_held_writer(
            database,
            [inserting("undone"), inserting("lost", then=transaction_lost), inserting("later")],
        )
    )

    assert isinstance(outcomes[0], OSError)  # it ran in the transaction that was lost
    assert isinstance(outcomes[1], OSError)
    assert outcomes[2] == "later"  # run again, in a transaction of its own
    assert stored(database) == ["first", "later"]


def test_a_failed_commit_fails_every_unit_of_it(database: Database) -> None:
    def defer_checks(connection: Connection) -> None:
        # A foreign key checked only at COMMIT, and broken: the commit itself fails.
        connection.raw.execute("PRAGMA defer_foreign_keys = ON")
        connection.raw.execute(
            "INSERT INTO hooks (account_id, name, event, address, active, created_at, "
            "updated_at) VALUES (987654, 'x', 'ping', 'http://x', 1, '2026-01-01', '2026-01-01')"
        )

    outcomes = asyncio.run(
        behind_a_held_writer(database, [inserting("good"), inserting("bad", then=defer_checks)])
    )

    assert all(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert "FOREIGN KEY" in str(outcomes[0])
    assert stored(database) == ["first"]


def test_a_caller_gone_before_its_turn_takes_its_unit_off_the_queue(database: Database) -> None:
    async def scenario() -> None:
        async with held_writer(database):
            leaving = asyncio.ensure_future(database.write(inserting("left")))
            staying = asyncio.ensure_future(database.write(inserting("stayed")))
            await asyncio.sleep(0.05)
            leaving.cancel()
        assert await staying == "stayed"

    asyncio.run(scenario())
    assert stored(database) == ["first", "stayed"]


def test_the_writer_failing_outside_any_unit_answers_its_callers_and_goes_on(
    database: Database,
) -> None:
    real = database.writer._connection
    failures = iter([OSError("unable to open database file")])

    def connection_once_unavailable() -> Connection:
        for failure in failures:
            raise failure
        return real()

    database.writer._connection = connection_once_unavailable

    async def scenario() -> tuple[Any, Any]:
        failed = await asyncio.gather(database.write(inserting("lost")), return_exceptions=True)
        return failed[0], await database.write(inserting("next"))

    failed, written = asyncio.run(scenario())
    assert isinstance(failed, OSError)
    assert written == "next"
    assert stored(database) == ["next"]
