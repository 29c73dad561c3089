"""A live server whose PostgreSQL connections are killed: one 503 wire error, no traceback
in the log, and every later request served on new connections, however many old ones the
pool held."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.servers import new_account, running_server

CUSTOMERS = "/api/v1/fulfilment/customers"


def test_killed_database_connections_are_503_then_replaced(
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
    assert answers[0].status_code == 503
    assert answers[0].json()["error_code"] == 104
    assert [answer.status_code for answer in answers[1:] + created] == [200] * 19
    text = log.read_text()
    assert "Traceback" not in text
    assert '"level":"ERROR"' not in text
