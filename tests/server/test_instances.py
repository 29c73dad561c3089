"""Several server processes on one PostgreSQL and one Redis behave as one service."""

from __future__ import annotations

import os
import subprocess
import time

import httpx

from tests.servers import new_account, running_server

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_two_instances_share_the_limit_and_the_data(postgres_database: str) -> None:
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_database)
    limit = 7
    env = {
        "FULFILMENT_DATABASE_URL": postgres_database,
        "FULFILMENT_REDIS_URL": REDIS_URL,
        "FULFILMENT_RATE_LIMIT": f"{limit}/minute",
    }
    key = new_account(env)
    auth = (key, "X")
    with running_server(env) as first, running_server(env) as second:
        assert first.url != second.url
        created = httpx.post(
            f"{first.url}/api/v1/fulfilment/customers", json={"name": "Seen by both"}, auth=auth
        )
        assert created.status_code == 200
        customer_id = created.json()["idfulfilment_customer"]
        read = httpx.get(f"{second.url}/api/v1/fulfilment/customers/{customer_id}", auth=auth)
        assert read.status_code == 200
        assert read.json() == created.json()

        statuses = [
            httpx.get(f"{server.url}/api/v1/warehouses", auth=auth).status_code
            for _ in range(limit)
            for server in (first, second)
        ]

    # Two requests above already counted; the rest of the budget is shared by both.
    assert statuses.count(200) == limit - 2
    assert statuses.count(429) == len(statuses) - (limit - 2)
    assert statuses[: limit - 2] == [200] * (limit - 2)


def test_serve_runs_the_requested_number_of_workers(database_url: str) -> None:
    env = {"FULFILMENT_DATABASE_URL": database_url, "FULFILMENT_POOL_SIZE": "3"}
    key = new_account(env)
    with running_server(env, workers=3) as server:
        pids: set[int] = set()
        deadline = time.monotonic() + 20
        while len(pids) < 3 and time.monotonic() < deadline:
            pids = set(
                map(
                    int,
                    subprocess.run(
                        ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True
                    ).stdout.split(),
                )
            )
            time.sleep(0.2)
        assert len(pids) == 3
        with httpx.Client(auth=(key, "X")) as client:
            answers = [client.get(f"{server.url}/api/v1/templates") for _ in range(30)]
        assert {a.status_code for a in answers} == {200}
        assert all(os.path.exists(f"/proc/{pid}") for pid in pids)
