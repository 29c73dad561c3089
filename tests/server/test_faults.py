"""A live server whose PostgreSQL connections are killed: the next request is served on a
new connection, however many old ones the pool held, a read whose connection is killed
under it runs again on another, and the log holds no traceback."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import sqlalchemy as sa

from tests.db.test_far_database import table_locked, timed
from tests.factories import wait_until
from tests.servers import new_account, running_server

CUSTOMERS = "/api/v1/fulfilment/customers"
WAREHOUSES = "/api/v1/warehouses"


def test_killed_database_connections_are_replaced_without_a_failed_request(
    postgres_database: str, tmp_path: Path
) -> None:
    env = {"FULFILMENT_DATABASE_URL": postgres_database, "FULFILMENT_RATE_LIMIT": "off"}
    key = new_account(env, subdomain="killed")
    log = tmp_path / "server.log"
    admin = sa.create_engine(sa.make_url(postgres_database), isolation_level="AUTOCOMMIT")
    name = sa.make_url(postgres_database).database
    with (
        running_server(env, log=log) as server,
        httpx.Client(base_url=server.url, auth=(key, "X"), timeout=10) as client,
    ):
        # Concurrent writes fill the pool with connections (FULFILMENT_POOL_SIZE of them).
        with ThreadPoolExecutor(8) as pool:
            made = list(
                pool.map(lambda n: client.post(CUSTOMERS, json={"name": f"C{n}"}), range(40))
            )
        assert {answer.status_code for answer in made} == {200}
        with admin.connect() as connection:
            killed = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar_one()
        assert killed >= 1

        # The first request meets a dropped connection, and is served on a new one at once.
        first, took = timed(lambda: client.get(CUSTOMERS))
        assert took < 2, took
        answers = [first, *(client.get(CUSTOMERS) for _ in range(9))]
        created = [client.post(CUSTOMERS, json={"name": f"After {n}"}) for n in range(10)]

    admin.dispose()
    assert killed >= 3
    assert [answer.status_code for answer in answers + created] == [200] * 20
    text = log.read_text()
    assert "Traceback" not in text
    assert '"level":"ERROR"' not in text


def test_a_read_whose_connection_is_killed_under_it_runs_again(
    postgres_database: str, tmp_path: Path
) -> None:
    env = {"FULFILMENT_DATABASE_URL": postgres_database, "FULFILMENT_RATE_LIMIT": "off"}
    key = new_account(env, subdomain="midway")
    log = tmp_path / "server.log"
    plain = sa.make_url(postgres_database).set(drivername="postgresql")

    def waiting(watcher: psycopg.Connection[tuple[int]]) -> list[int]:
        """The backends that wait for a lock: the listing's."""
        rows = watcher.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchall()
        return [pid for (pid,) in rows]

    with (
        running_server(env, log=log) as server,
        httpx.Client(base_url=server.url, auth=(key, "X"), timeout=15) as client,
        ThreadPoolExecutor(1) as threads,
        psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as watcher,
    ):
        assert client.get(WAREHOUSES).status_code == 200
        with table_locked(postgres_database, "warehouses"):
            listing = threads.submit(client.get, WAREHOUSES)
            wait_until(lambda: len(waiting(watcher)) == 1, 10, "waiting for the lock")
            [first] = waiting(watcher)
            watcher.execute("SELECT pg_terminate_backend(%s)", (first,))
            # The listing had its answer from no statement: it waits again, on another.
            wait_until(
                lambda: waiting(watcher) not in ([], [first]), 10, "waiting on a new connection"
            )
            assert not listing.done()
            released_at = time.monotonic()
        answer = listing.result(timeout=15)
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - released_at < 2

    text = log.read_text()
    assert "Traceback" not in text
    assert '"level":"ERROR"' not in text
