"""A worker killed with SIGKILL (as the kernel's OOM killer does) is replaced while the
server's other worker goes on answering, and no write it acknowledged, nor its event, is
lost."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.factories import metric
from tests.hooks.helpers import HOOKS
from tests.hooks.receiver import Receiver
from tests.servers import new_account, running_server

CUSTOMERS = "/api/v1/fulfilment/customers"
# Request ids start with 16 hex digits of the process that answered (observability.py).
PROCESS_TAG = 16


def workers_of(server_pid: int) -> set[int]:
    return {
        int(pid)
        for pid in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    }


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver().up()
    try:
        yield receiver
    finally:
        receiver.down()


@dataclass
class Answer:
    at: float
    process: str


@dataclass
class WriteLoop:
    """Threads creating customers, each request on a connection of its own so that the
    kernel hands them to either worker."""

    url: str
    key: str
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    refused: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, writer: int) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.url, auth=(self.key, "X"), limits=limits, timeout=20) as c:
            n = 0
            while not self.stop.is_set():
                n += 1
                body = {"name": f"Write {writer}-{n}", "username": f"w{writer}-{n}"}
                try:
                    answer = c.post(CUSTOMERS, json=body)
                except httpx.TransportError:  # a request the killed worker was holding
                    self.refused += 1
                    continue
                self.statuses.append(answer.status_code)
                self.answers.append(
                    Answer(time.monotonic(), answer.headers["x-request-id"][:PROCESS_TAG])
                )
                if answer.status_code == 200:
                    self.acknowledged.append(answer.json())

    def processes(self, since: float = 0.0) -> set[str]:
        return {answer.process for answer in list(self.answers) if answer.at > since}


def test_a_killed_worker_is_replaced_and_nothing_answered_is_lost(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "FULFILMENT_DATABASE_URL": database_url,
        "FULFILMENT_RATE_LIMIT": "off",
        "FULFILMENT_HOOKS_ALLOW_PRIVATE": "true",
        # What the dead worker had claimed is delivered by another soon after.
        "FULFILMENT_HOOKS_LEASE_SECONDS": "2",
    }
    key = new_account(env)
    log = tmp_path / "server.log"
    with receiving() as receiver, running_server(env, workers=2, log=log) as server:
        hook = {"name": "Created", "event": "fulfilment_customers.created", "address": receiver.url}
        httpx.post(f"{server.url}{HOOKS}", json=hook, auth=(key, "X")).raise_for_status()
        pid = server.process.pid
        wait_for(lambda: len(workers_of(pid)) == 2)
        load = WriteLoop(server.url, key)
        threads = [threading.Thread(target=load.run, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: len(load.processes()) == 2)
            victim = min(workers_of(pid))
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            before = load.processes()
            # The other worker answers meanwhile; a new one takes the dead one's place.
            wait_for(lambda: bool(load.processes(since=killed_at) & before))
            wait_for(lambda: len(workers_of(pid) - {victim}) == 2)
            wait_for(lambda: bool(load.processes(since=killed_at) - before))
            wait_for(lambda: len(load.acknowledged) >= 20)
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert server.process.poll() is None
        assert set(load.statuses) == {200}
        with httpx.Client(base_url=server.url, auth=(key, "X"), timeout=20) as client:
            text = client.get("/metrics").text
            assert metric(text, "fulfilment_worker_restarts_total") == 1
            for customer in load.acknowledged:
                path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"
                assert client.get(path).json() == customer
                events = client.get(f"{path}/history").json()
                assert [event["action"] for event in events] == ["create"]
        # Every acknowledged write's event is delivered, those the dead worker held too.
        written = {customer["idfulfilment_customer"] for customer in load.acknowledged}
        receiver.wait_for(
            lambda got: (
                written <= {event.payload["data"]["idfulfilment_customer"] for event in got}
            ),
            seconds=60,
        )
    assert "Unexpected exit from worker" in log.read_text()
