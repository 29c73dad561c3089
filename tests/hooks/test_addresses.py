"""Addresses against SSRF: refused when saved, by name or by what the name resolves to, and
checked again for the address each delivery actually connects to."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.clock import utcnow
from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.tables import hooks
from tests.factories import Tenant, make_tenant

from .helpers import CREATED, HOOKS
from .receiver import Receiver

REFUSED = [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://127.1/", "loopback"),  # a short form, that only resolving reads
    ("http://2130706433/", "loopback"),  # 127.0.0.1 as one number
    ("http://0x7f000001/", "loopback"),
    ("http://localhost:9000/", "loopback"),  # a name, from /etc/hosts
    ("http://LOCALHOST./", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4 mapped into IPv6
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.0.10/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://100.64.0.1/", "reserved"),  # carrier-grade NAT
    ("https://user:pass@127.0.0.1/", "loopback"),
]


@pytest.fixture
def strict(settings: Settings, database: Database) -> Iterator[Tenant]:
    """A tenant of an app that refuses private addresses, as in production."""
    with TestClient(create_app(replace(settings, hooks_allow_private=False))) as client:
        yield make_tenant(database, client, "acme")


def test_every_private_address_class_is_refused(strict: Tenant) -> None:
    for address, kind in REFUSED:
        answer = strict.post(HOOKS, {"name": "ssrf", "event": CREATED, "address": address})

        assert answer.status_code == 400, (address, answer.text)
        assert answer.json()["error_code"] == 5
        message = answer.json()["error_message"]
        assert message.startswith("address is refused: "), address
        assert f"a {kind} address" in message or f"an {kind} address" in message, message
    assert strict.get(HOOKS).json() == []
    named = strict.post(HOOKS, {"name": "x", "event": CREATED, "address": "http://localhost/"})
    assert named.json()["error_message"] == (
        "address is refused: its host 'localhost' resolves to 127.0.0.1, a loopback address."
    )


def test_other_schemes_and_unresolvable_names_are_refused(strict: Tenant) -> None:
    for address, words in [
        ("file:///etc/passwd", "http or https"),
        ("gopher://example.com/", "http or https"),
        ("http:///no-host", "no host"),
        ("http://name.invalid/", "cannot be resolved"),
        ("http://[::1/", "not a valid URL"),
    ]:
        answer = strict.post(HOOKS, {"name": "x", "event": CREATED, "address": address})
        assert answer.status_code == 400, address
        assert words in answer.json()["error_message"], answer.text


def test_a_public_address_is_accepted_and_a_change_to_a_private_one_refused(
    strict: Tenant,
) -> None:
    answer = strict.post(
        HOOKS, {"name": "public", "event": CREATED, "address": "https://93.184.216.34/hook"}
    )
    assert answer.status_code == 200, answer.text
    path = f"{HOOKS}/{answer.json()['idhook']}"

    moved = strict.put(path, {"address": "http://localhost/"})

    assert moved.status_code == 400
    assert strict.get(path).json()["address"] == "https://93.184.216.34/hook"


def test_the_address_dialled_is_checked_again_when_delivering(
    strict: Tenant, database: Database, receiver: Receiver
) -> None:
    """A hook saved when its name resolved elsewhere (stored directly here): delivery
    resolves again, refuses the loopback address, and never connects."""
    now = utcnow()
    with database.engine.begin() as connection:
        idhook = connection.execute(
            sa.insert(hooks)
            .values(
                account_id=strict.account.id,
                name="rebound",
                event=CREATED,
                address=f"http://localhost:{receiver.port}/hook",
                active=True,
                created_at=now,
                updated_at=now,
            )
            .returning(hooks.c.idhook)
        ).scalar_one()
    strict.create_customer(name="Not for loopback")
    deadline = time.monotonic() + 10
    while True:
        log = strict.get(f"{HOOKS}/{idhook}/deliveries").json()
        if log and log[0]["attempts"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)

    attempt = log[0]["attempts"][-1]
    assert attempt["error"] == (
        "address refused: its host 'localhost' resolves to 127.0.0.1, a loopback address"
    )
    assert attempt["status"] is None
    time.sleep(0.3)
    assert receiver.requests == []
