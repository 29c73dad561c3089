"""What a hook's host name resolves to, against SSRF: every address it names is checked, and
a delivery connects to the address that was checked, not to whatever the name resolves to
a moment later (DNS rebinding). The names here are answered by a resolver of the test's
own, in place of the system's: DNS is the edge of the world these tests stand at."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.db import Database
from fulfilment.settings import Settings
from tests.factories import Tenant, make_tenant

from .helpers import CREATED, HOOKS, create_hook
from .receiver import Receiver

PUBLIC = "93.184.216.34"


class Resolver:
    """Answers for names under `.test`, one list of IPv4 addresses per lookup in turn (the
    last one again once they run out); every other name goes to the system's resolver."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: dict[str, int] = {}
        self._lock = threading.Lock()
        self._system = socket.getaddrinfo

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.rstrip(".").endswith(".test"):
            return self._system(host, port, *args, **kwargs)
        with self._lock:
            turn = self.lookups.get(name, 0)
            self.lookups[name] = turn + 1
            answers = self.answers.get(name)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        ips = answers[min(turn, len(answers) - 1)]
        number = int(port or 0)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, number)) for ip in ips
        ]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    return resolver


@pytest.fixture
def strict(settings: Settings, database: Database) -> Iterator[Tenant]:
    """A tenant of an app that refuses private addresses, as in production."""
    with TestClient(create_app(replace(settings, hooks_allow_private=False))) as client:
        yield make_tenant(database, client, "acme")


@pytest.mark.parametrize(
    "ips", [[PUBLIC, "10.0.0.7"], ["10.0.0.7", PUBLIC]], ids=["private-second", "private-first"]
)
def test_a_name_with_one_private_address_among_public_ones_is_refused(
    strict: Tenant, resolver: Resolver, ips: list[str]
) -> None:
    resolver.answers["mixed.test"] = [ips]

    answer = strict.post(
        HOOKS, {"name": "mixed", "event": CREATED, "address": "https://mixed.test/hook"}
    )

    assert answer.status_code == 400, answer.text
    assert answer.json()["error_message"] == (
        "address is refused: its host 'mixed.test' resolves to 10.0.0.7, a private address."
    )
    assert strict.get(HOOKS).json() == []


class Listener:
    """A port that takes connections and never answers, counting them."""

    def __init__(self, host: str, port: int) -> None:
        self.accepted = 0
        self._socket = socket.create_server((host, port))
        self._socket.settimeout(0.05)
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._held.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self._held:
            connection.close()
        self._socket.close()


def test_a_delivery_connects_to_the_address_that_was_checked(
    tenant: Tenant, receiver: Receiver, resolver: Resolver
) -> None:
    # The name resolves to the receiver while the hook is saved and while its delivery is
    # checked, and elsewhere from then on: a connection that looked the name up again would
    # reach the other address.
    elsewhere = Listener("127.0.0.2", receiver.port)
    try:
        resolver.answers["rebind.test"] = [["127.0.0.1"]]
        create_hook(tenant, f"http://rebind.test:{receiver.port}/hook")
        resolver.lookups.clear()
        resolver.answers["rebind.test"] = [["127.0.0.1"], ["127.0.0.2"]]

        tenant.create_customer(name="Rebound")

        [delivery] = receiver.wait_count(1)
        assert elsewhere.accepted == 0
    finally:
        elsewhere.close()
    assert delivery.header("host") == f"rebind.test:{receiver.port}"
    assert delivery.payload["data"]["name"] == "Rebound"
