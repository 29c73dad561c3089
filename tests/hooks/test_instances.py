"""Several instances (`fulfilment serve` processes) on one PostgreSQL share the deliveries:
none lost, none made twice while all are healthy, and a killed instance's claims taken
over once their lease ends. On SQLite the processes share them the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx

from fulfilment import migrate
from fulfilment.accounts import service as accounts
from fulfilment.db import Connection, Database
from fulfilment.settings import Settings
from tests.conftest import _empty_postgres
from tests.servers import FULFILMENT, running_server, start_server

from .conftest import SECRET_KEY
from .receiver import Receiver

LEASE_SECONDS = 3


def environment(database_url: str) -> dict[str, str]:
    return {
        "FULFILMENT_DATABASE_URL": database_url,
        "FULFILMENT_RATE_LIMIT": "off",
        "FULFILMENT_HOOKS_ALLOW_PRIVATE": "true",
        "FULFILMENT_HOOKS_POLL_SECONDS": "0.05",
        "FULFILMENT_HOOKS_LEASE_SECONDS": str(LEASE_SECONDS),
        "FULFILMENT_ENCRYPTION_KEY": SECRET_KEY,
    }


def new_account(env: dict[str, str]) -> str:
    """An account and its key, made in this process (quicker than the command line)."""
    database = Database(Settings(database_url=env["FULFILMENT_DATABASE_URL"]))
    migrate.upgrade(database)

    async def create(connection: Connection) -> str:
        account = await accounts.create_account(connection, "Acme BV", "acme")
        return (await accounts.create_api_key(connection, account, "instances"))[1]

    try:
        return database.write_sync(create)
    finally:
        database.close()


def add_hook(url: str, key: str, address: str, event: str) -> int:
    answer = httpx.post(
        f"{url}/api/v1/hooks",
        json={"name": "instances", "event": event, "address": address, "secret": "s"},
        auth=(key, "X"),
    )
    assert answer.status_code == 200, answer.text
    idhook: int = answer.json()["idhook"]
    return idhook


def test_two_instances_deliver_a_thousand_events_once_each(
    postgres_database: str, receiver: Receiver, tmp_path: Path
) -> None:
    _empty_postgres(postgres_database)
    env = environment(postgres_database)
    key = new_account(env)
    with (
        running_server(env, log=tmp_path / "first.log") as first,
        running_server(env, log=tmp_path / "second.log") as second,
    ):
        # Two hooks on the event: each of the 500 creates makes two deliveries.
        add_hook(first.url, key, receiver.url, "fulfilment_customers.created")
        add_hook(second.url, key, receiver.url + "?second", "fulfilment_customers.created")
        created: list[int] = []
        with httpx.Client(auth=(key, "X")) as client:
            for number in range(500):
                server = (first, second)[number % 2]
                answer = client.post(
                    f"{server.url}/api/v1/fulfilment/customers", json={"name": f"C{number}"}
                )
                assert answer.status_code == 200
                created.append(answer.json()["idfulfilment_customer"])

        received = receiver.wait_count(1000, seconds=60)
        time.sleep(LEASE_SECONDS + 0.5)  # long enough for a second attempt to show

    ids = Counter(request.header("webhook-id") for request in receiver.received)
    assert len(ids) == 1000
    assert max(ids.values()) == 1, ids.most_common(3)
    for path in ("/hook", "/hook?second"):
        delivered = [
            request.payload["data"]["idfulfilment_customer"]
            for request in received
            if request.path == path
        ]
        assert sorted(delivered) == created


def test_a_killed_instances_delivery_is_made_by_another_after_the_lease(
    postgres_database: str, receiver: Receiver, tmp_path: Path
) -> None:
    _empty_postgres(postgres_database)
    env = environment(postgres_database)
    key = new_account(env)
    receiver.delay = LEASE_SECONDS  # the first attempt hangs until its instance is gone
    doomed = start_server(env)
    try:
        add_hook(doomed.url, key, receiver.url, "fulfilment_customers.created")
        answer = httpx.post(
            f"{doomed.url}/api/v1/fulfilment/customers", json={"name": "Survivor"}, auth=(key, "X")
        )
        assert answer.status_code == 200
        receiver.wait_for(lambda _: bool(receiver.arrivals))
        doomed.kill()
    finally:
        doomed.stop()
    receiver.delay = 0
    with running_server(env, log=tmp_path / "survivor.log"):
        # The dead instance's request is still answered (the receiver sleeps through it);
        # the survivor's is the second to arrive.
        receiver.wait_for(
            lambda got: len(receiver.arrivals) >= 2 and len(got) >= 2, LEASE_SECONDS + 10
        )

    got = receiver.requests[-1]
    assert got.payload["data"] == answer.json()
    # Taken over only once the dead instance's lease had run out.
    first, second = receiver.arrivals
    assert second - first >= LEASE_SECONDS - 1.5
    assert {request.header("webhook-id") for request in receiver.requests} == {"msg_1"}


def test_on_sqlite_processes_share_the_deliveries_by_lease(
    tmp_path: Path, receiver: Receiver
) -> None:
    path = tmp_path / "shared.sqlite3"
    env = environment(f"sqlite:///{path}")
    key = new_account(env)
    with running_server(env, workers=2, log=tmp_path / "server.log") as server:
        add_hook(server.url, key, receiver.url, "fulfilment_customers.created")
        with httpx.Client(auth=(key, "X")) as client:
            for number in range(50):
                answer = client.post(
                    f"{server.url}/api/v1/fulfilment/customers", json={"name": f"S{number}"}
                )
                assert answer.status_code == 200
        receiver.wait_count(50, seconds=30)

    ids = Counter(request.header("webhook-id") for request in receiver.received)
    assert len(ids) == 50
    assert max(ids.values()) == 1


def test_hooks_deliver_runs_the_worker_alone(tmp_path: Path, receiver: Receiver) -> None:
    env = {
        **environment(f"sqlite:///{tmp_path / 'alone.sqlite3'}"),
        "FULFILMENT_HOOKS_WORKER": "false",
    }
    key = new_account(env)
    with running_server(env, log=tmp_path / "server.log") as server:
        add_hook(server.url, key, receiver.url, "fulfilment_customers.created")
        answer = httpx.post(
            f"{server.url}/api/v1/fulfilment/customers", json={"name": "Later"}, auth=(key, "X")
        )
        assert answer.status_code == 200
        time.sleep(0.5)
        assert receiver.requests == []  # this server does not deliver

        worker = subprocess.Popen(
            [*FULFILMENT, "hooks", "deliver"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            [got] = receiver.wait_count(1, seconds=20)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, errors = worker.communicate(timeout=15)
    assert got.payload["data"] == answer.json()
    assert worker.returncode == 0, errors
