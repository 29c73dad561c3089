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
    # IPv6 forms that carry a refused IPv4 address count as that address.
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4
    ("http://[2002:a01:203::1]/", "private"),
    ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64, the well-known prefix
    ("http://[64:ff9b:1::a9fe:a9fe]/", "link-local"),  # NAT64, local use
    ("http://[::127.0.0.1]/", "loopback"),  # IPv4-compatible
    ("http://[::ffff:10.0.0.1]/", "private"),  # IPv4-mapped
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback"),  # Teredo
    ("http://192.0.0.9/", "reserved"),  # IETF protocol assignments, all of 192.0.0.0/24
    ("http://192.0.0.170/", "reserved"),
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
    sixtofour = strict.post(
        HOOKS, {"name": "x", "event": CREATED, "address": "http://[2002:7f00:1::]/"}
    )
    assert sixtofour.json()["error_message"] == (
        "address is refused: 2002:7f00:1:: is a loopback address (127.0.0.1, in a 6to4 address)."
    )


def test_public_addresses_in_ipv6_forms_are_judged_by_what_they_carry(strict: Tenant) -> None:
    """A 6to4 address of a public IPv4 address is public; NAT64 and IPv4-compatible forms
    stay refused as reserved whatever they carry."""
    accepted = strict.post(
        HOOKS, {"name": "6to4", "event": CREATED, "address": "http://[2002:5db8:d822::1]/"}
    )
    assert accepted.status_code == 200, accepted.text
    for address in ("http://[64:ff9b::5db8:d822]/", "http://[::93.184.216.34]/"):
        answer = strict.post(HOOKS, {"name": "x", "event": CREATED, "address": address})
        assert answer.status_code == 400, address
        assert "a reserved address" in answer.json()["error_message"]


def test_other_schemes_and_unresolvable_names_are_refused(strict: Tenant) -> None:
    for address, words in [
        ("file:///etc/passwd", "http or https"),
        ("gopher://example.com/", "http or https"),
        ("http:///no-host", "no host"),
        ("http://name.invalid/", "cannot be resolved"),
        ("http://[::1/", "not a valid URL"),
        ("http://93.184.216.34:0/", "port 0"),
        ("https://example.com:0/hook", "port 0"),
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


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        (
            "http://localhost:{port}/hook",
            "its host 'localhost' resolves to 127.0.0.1, a loopback address",
        ),
        (
            "http://[::ffff:127.0.0.1]:{port}/hook",
            "its host '::ffff:127.0.0.1' resolves to ::ffff:7f00:1, "
            "a loopback address (127.0.0.1, in an IPv4-mapped address)",
        ),
        ("http://127.0.0.1:0/hook", "port 0 cannot be connected to"),
    ],
)
def test_the_address_dialled_is_checked_again_when_delivering(
    strict: Tenant, database: Database, receiver: Receiver, address: str, refused: str
) -> None:
    """A hook saved when its address was allowed (stored directly here): delivery checks
    again, refuses, and never connects."""
    now = utcnow()
    with database.engine.begin() as connection:
        idhook = connection.execute(
            sa.insert(hooks)
            .values(
                account_id=strict.account.id,
                name="rebound",
                event=CREATED,
                address=address.format(port=receiver.port),
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
    assert attempt["error"] == f"address refused: {refused}"
    assert attempt["status"] is None
    assert receiver.requests == []
