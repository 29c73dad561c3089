"""A live server whose PostgreSQL connections are killed: the next request is served on a
new connection, however many old ones the pool held, and the log holds no traceback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.servers import new_account, running_server

CUSTOMERS = "/api/v1/fulfilment/customers"


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

        answers = [client.get(CUSTOMERS) for _ in range(10)]
        created = [client.post(CUSTOMERS, json={"name": f"After {n}"}) for n in range(10)]

    admin.dispose()
    assert killed >= 3
    assert [answer.status_code for answer in answers + created] == [200] * 20
    text = log.read_text()
    assert "Traceback" not in text
    assert '"level":"ERROR"' not in text
