"""A server killed with SIGKILL in the middle of a stream of writes loses none it answered."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from fulfilment.db import Connection, Database
from fulfilment.settings import Settings
from fulfilment.tables import accounts, fulfilment_customers
from tests.servers import new_account, running_server, start_server


def stream_writes(
    url: str, key: str, stop: threading.Event, acknowledged: list[dict[str, Any]], worker: int
) -> None:
    with httpx.Client(base_url=url, auth=(key, "X"), timeout=10) as client:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                answer = client.post(
                    "/api/v1/fulfilment/customers",
                    json={
                        "name": f"Write {worker}-{n}",
                        "username": f"w{worker}-{n}",
                        "language": "en",
                    },
                )
            except httpx.TransportError:
                return
            if answer.status_code == 200:
                acknowledged.append(answer.json())


def test_acknowledged_writes_survive_a_kill(database_url: str) -> None:
    env = {"FULFILMENT_DATABASE_URL": database_url, "FULFILMENT_RATE_LIMIT": "off"}
    key = new_account(env)
    server = start_server(env, workers=2)
    acknowledged: list[dict[str, Any]] = []
    stop = threading.Event()
    writers = [
        threading.Thread(target=stream_writes, args=(server.url, key, stop, acknowledged, n))
        for n in range(4)
    ]
    try:
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=20)
        server.stop()
    assert len(acknowledged) >= 150

    with (
        running_server(env) as restarted,
        httpx.Client(base_url=restarted.url, auth=(key, "X")) as client,
    ):
        for customer in acknowledged:
            stored = client.get(f"/api/v1/fulfilment/customers/{customer['idfulfilment_customer']}")
            assert stored.status_code == 200
            assert stored.json() == customer
        after = client.post("/api/v1/fulfilment/customers", json={"name": "After restart"})
        assert after.status_code == 200

    database = Database(Settings(database_url=database_url))
    try:
        with database.engine.connect() as connection:
            if database.is_sqlite:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            positions = (
                connection.execute(
                    sa.select(fulfilment_customers.c.position).order_by(
                        fulfilment_customers.c.position
                    )
                )
                .scalars()
                .all()
            )
            count = connection.execute(sa.select(accounts.c.customer_count)).scalar_one()
    finally:
        database.close()
    # Every customer has its place, with no gap or double, and the account's counter agrees.
    assert positions == list(range(1, len(positions) + 1))
    assert count == len(positions)
    assert len(positions) >= len(acknowledged) + 1


def test_every_sqlite_connection_syncs_each_commit(tmp_path: Path) -> None:
    """The kill above cannot tell FULL from OFF (the OS keeps what a killed process wrote);
    a power cut can. So read the setting back from each connection the service uses: the
    event loop's, the writer thread's, a reader thread's, the command line's, the engine's
    (migrations), and one opened on its own."""
    database = Database(Settings(database_url=f"sqlite:///{tmp_path / 'synced.sqlite3'}"))
    full = 2

    async def setting(connection: Connection) -> int:
        value: int = connection.raw.execute("PRAGMA synchronous").fetchone()[0]
        return value

    async def from_the_service() -> list[int]:
        return [
            await database.read(setting),
            await database.write(setting),
            await database.read(setting, heavy_for=1),
        ]

    try:
        readings = asyncio.run(from_the_service())
        readings.append(database.write_sync(setting))
        with database.engine.connect() as connection:
            readings.append(connection.exec_driver_sql("PRAGMA synchronous").scalar_one())
        own = database.open_connection()
        try:
            readings.append(own.execute("PRAGMA synchronous").fetchone()[0])
        finally:
            own.close()
    finally:
        database.close()

    assert readings == [full] * 6
