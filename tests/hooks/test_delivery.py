"""Delivery to a real HTTP receiver: headers and both signatures (checked by independent
implementations), retries on the schedule, slow and failing receivers, redirects, the
deactivation rule, and the log's retention."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from msgspec.structs import replace
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.testclient import TestClient

from fulfilment import __version__
from fulfilment.app import create_app
from fulfilment.clock import utcnow
from fulfilment.db import Database
from fulfilment.hooks.attempts import PER_ADDRESS
from fulfilment.hooks.handler import ATTEMPTS, RETRY_SCHEDULE, forget_old
from fulfilment.settings import Settings
from fulfilment.tables import account_events, hook_attempts, hook_deliveries, hook_events
from tests.factories import CUSTOMERS, Tenant, make_tenant, wait_until

from .helpers import CHANGED, HOOKS, create_hook, stored_deliveries
from .receiver import DrippingReceiver, Receiver

SECRET = "whsec-like but any text: ünïcode too"


def delivery_log(tenant: Tenant, idhook: int) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = tenant.get(f"{HOOKS}/{idhook}/deliveries").json()
    return log


def account_log(database: Database, tenant: Tenant, action: str) -> list[dict[str, Any]]:
    """The account's audit rows of `action`, without their times."""
    columns = [
        account_events.c[name]
        for name in (
            "subject", "subject_id", "subject_name", "actor_type", "actor_id", "actor_name",
            "changes",
        )
    ]  # fmt: skip
    statement = sa.select(*columns).where(
        account_events.c.account_id == tenant.account.id, account_events.c.action == action
    )
    with database.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(statement)]


@pytest.fixture
def tenant_with(settings: Settings, database: Database) -> Iterator[Callable[..., Tenant]]:
    """A tenant on an app with some settings changed."""
    clients: list[TestClient] = []

    def build(**changes: Any) -> Tenant:
        client = TestClient(create_app(replace(settings, **changes)))
        client.__enter__()
        clients.append(client)
        return make_tenant(database, client, "acme")

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.mark.pgbouncer
def test_the_payload_and_headers_are_signed_both_ways(tenant: Tenant, receiver: Receiver) -> None:
    hook = create_hook(tenant, receiver.url, CHANGED, secret=SECRET)
    customer = tenant.create_customer(name="Signed")
    path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"
    changed = tenant.put(path, {"emailaddress": "signed@example.com"}).json()

    [got] = receiver.wait_count(1)

    payload = got.payload
    assert set(payload) == {"idhook", "name", "event", "event_triggered_at", "data"}
    assert payload["idhook"] == hook["idhook"]
    assert payload["name"] == hook["name"]
    assert payload["event"] == CHANGED
    assert payload["data"] == changed
    assert len(payload["event_triggered_at"]) == len("2026-12-03 10:00:00")
    assert got.header("content-type") == "application/json"
    assert (
        got.header("user-agent")
        == f"fulfilment-webhooks/{__version__} (fulfilment customers service)"
    )
    # The Standard Webhooks reference library, given the secret's bytes.
    assert Webhook(SECRET.encode()).verify(got.body, got.headers) == payload
    with pytest.raises(WebhookVerificationError):
        Webhook(b"another secret").verify(got.body, got.headers)
    # The hosted system's scheme, by hand.
    expected = hmac.new(SECRET.encode(), got.body, hashlib.sha256).digest()
    assert base64.b64decode(got.header("x-picqer-signature") or "") == expected
    assert abs(int(got.header("webhook-timestamp") or 0) - time.time()) < 10


def test_without_a_secret_nothing_is_signed(tenant: Tenant, receiver: Receiver) -> None:
    create_hook(tenant, receiver.url)
    tenant.create_customer(name="Unsigned")

    [got] = receiver.wait_count(1)

    assert got.header("x-picqer-signature") is None
    assert got.header("webhook-signature") is None
    assert got.header("webhook-id") is not None


@pytest.mark.pgbouncer
def test_a_failing_receiver_is_retried_on_the_schedule_with_the_same_id(
    tenant: Tenant, receiver: Receiver, settings: Settings
) -> None:
    hook = create_hook(tenant, receiver.url, secret=SECRET)
    receiver.status = 503
    tenant.create_customer(name="Retried")
    receiver.wait_for(lambda _: receiver.failures >= 3)
    receiver.status = 200

    receiver.wait_count(1)

    attempts = receiver.requests
    scale = settings.hooks_retry_scale
    for number, (before, after) in enumerate(itertools.pairwise(attempts)):
        assert after.at - before.at >= RETRY_SCHEDULE[number] * scale * 0.9
    assert len({request.header("webhook-id") for request in attempts}) == 1
    # Each attempt is signed anew, with its own timestamp.
    for request in attempts:
        Webhook(SECRET.encode()).verify(request.body, request.headers)
    wait_until(lambda: delivery_log(tenant, hook["idhook"])[0]["state"] == "delivered")
    [delivery] = delivery_log(tenant, hook["idhook"])
    assert [a["status"] for a in delivery["attempts"]][-3:] == [503, 503, 503]
    assert delivery["attempts"][0]["status"] == 200


def test_a_receiver_that_is_down_gets_it_once_up_again(tenant: Tenant, receiver: Receiver) -> None:
    hook = create_hook(tenant, receiver.url)
    receiver.down()
    created = tenant.create_customer(name="Patient")

    def failed_twice() -> bool:
        log = delivery_log(tenant, hook["idhook"])
        return bool(log) and len(log[0]["attempts"]) >= 2

    wait_until(failed_twice)
    receiver.up()

    [got] = receiver.wait_count(1, seconds=15)
    assert got.payload["data"] == created
    [delivery] = delivery_log(tenant, hook["idhook"])
    errors = [attempt["error"] for attempt in delivery["attempts"][1:]]
    assert errors
    assert all(error.startswith("could not connect") for error in errors)
    assert all(attempt["status"] is None for attempt in delivery["attempts"][1:])


def test_a_slow_receiver_is_given_up_on_and_retried(
    tenant_with: Callable[..., Tenant], receiver: Receiver
) -> None:
    # An attempt is cut a second before its lease ends: here after 1 second.
    tenant = tenant_with(hooks_lease_seconds=2)
    hook = create_hook(tenant, receiver.url)
    receiver.delay = 1.5
    tenant.create_customer(name="Slow")
    wait_until(lambda: bool(receiver.requests))
    receiver.delay = 0

    wait_until(lambda: delivery_log(tenant, hook["idhook"])[0]["state"] == "delivered")

    [delivery] = delivery_log(tenant, hook["idhook"])
    slow = delivery["attempts"][-1]
    assert slow["error"] == "no answer within 1 seconds"
    assert slow["status"] is None
    assert slow["duration_ms"] >= 900


def test_deliveries_to_one_address_are_bounded(tenant: Tenant, receiver: Receiver) -> None:
    create_hook(tenant, receiver.url)
    receiver.delay = 0.3
    for number in range(20):
        tenant.create_customer(name=f"Bounded {number}")

    receiver.wait_count(20)

    assert 2 <= receiver.most_concurrent <= PER_ADDRESS


def test_redirects_are_not_followed(tenant: Tenant, receiver: Receiver) -> None:
    hook = create_hook(tenant, receiver.url)
    receiver.status = 302
    tenant.create_customer(name="Redirected")

    wait_until(lambda: len(receiver.requests) >= 2)

    log = delivery_log(tenant, hook["idhook"])
    assert log[0]["state"] == "pending"
    assert log[0]["attempts"][-1]["status"] == 302
    assert log[0]["attempts"][-1]["error"] == "answered 302: redirects are not followed"
    assert all(request.path == "/hook" for request in receiver.requests)


def test_a_hook_failing_the_whole_schedule_is_deactivated(
    tenant_with: Callable[..., Tenant], receiver: Receiver, database: Database
) -> None:
    # The whole schedule, 12.7 hours, in about a second.
    tenant = tenant_with(hooks_retry_scale=0.00002)
    hook = create_hook(tenant, receiver.url)
    healthy = create_hook(tenant, receiver.url + "/healthy", CHANGED)
    receiver.status = 500
    tenant.create_customer(name="Never delivered")

    wait_until(lambda: not tenant.get(f"{HOOKS}/{hook['idhook']}").json()["active"], 15)

    [delivery] = delivery_log(tenant, hook["idhook"])
    assert delivery["state"] == "failed"
    assert len(delivery["attempts"]) == ATTEMPTS
    assert receiver.failures == ATTEMPTS
    assert tenant.get(f"{HOOKS}/{healthy['idhook']}").json()["active"] is True
    # In the account's audit log, by the service itself.
    [logged] = account_log(database, tenant, "deactivate")
    assert logged == {
        "subject": "hook",
        "subject_id": hook["idhook"],
        "subject_name": hook["name"],
        "actor_type": "system",
        "actor_id": 0,
        "actor_name": "",
        "changes": '{"because":"failing"}',
    }
    # No more deliveries while inactive; reactivated, it gets the next ones.
    receiver.status = 200
    tenant.create_customer(name="While inactive")
    tenant.post(f"{HOOKS}/{hook['idhook']}/reactivate")
    tenant.create_customer(name="After")
    [got] = receiver.wait_count(1)
    assert got.payload["data"]["name"] == "After"


def test_a_success_since_the_event_keeps_the_hook_active(
    tenant_with: Callable[..., Tenant], receiver: Receiver, database: Database
) -> None:
    tenant = tenant_with(hooks_retry_scale=0.00002)
    hook = create_hook(tenant, receiver.url)
    receiver.status = 500
    tenant.create_customer(name="Fails")
    # Another delivery of the hook succeeds while the first is still being retried.
    with database.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE hooks SET last_success_at = :now"), {"now": utcnow() + timedelta(1)}
        )

    wait_until(lambda: delivery_log(tenant, hook["idhook"])[0]["state"] == "failed", 15)

    assert tenant.get(f"{HOOKS}/{hook['idhook']}").json()["active"] is True


def test_finished_deliveries_are_forgotten_after_the_retention(
    tenant: Tenant, receiver: Receiver, database: Database
) -> None:
    hook = create_hook(tenant, receiver.url)
    tenant.create_customer(name="Old")
    tenant.create_customer(name="Recent")
    receiver.wait_count(2)
    wait_until(lambda: all(d["state"] == "delivered" for d in delivery_log(tenant, hook["idhook"])))
    first = stored_deliveries(database)[0]["iddelivery"]
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(hook_deliveries)
            .where(hook_deliveries.c.iddelivery == first)
            .values(finished_at=utcnow() - timedelta(days=31))
        )
        connection.execute(
            sa.update(hook_events).values(triggered_at=utcnow() - timedelta(days=31))
        )

    asyncio.run(forget_old(database))

    remaining = stored_deliveries(database)
    assert [row["iddelivery"] for row in remaining] == [first + 1]
    with database.engine.connect() as connection:
        logged = connection.execute(sa.select(hook_attempts.c.iddelivery)).scalars().all()
    assert logged == [first + 1]
    # The forgotten delivery's event goes with it (it was its only one); the other stays.
    with database.engine.connect() as connection:
        kept = connection.execute(sa.select(hook_events.c.idevent)).scalars().all()
    assert kept == [remaining[0]["idevent"]]


@pytest.mark.parametrize(("status", "state"), [(200, "delivered"), (503, "pending")])
def test_an_answer_whose_body_drips_is_recorded_by_its_status(
    tenant_with: Callable[..., Tenant], status: int, state: str
) -> None:
    # An attempt is given 1 second here; the body would take 10,000.
    tenant = tenant_with(hooks_lease_seconds=2)
    dripping = DrippingReceiver(status)
    try:
        hook = create_hook(tenant, dripping.url)
        tenant.create_customer(name="Dripped")

        def attempted() -> bool:
            log = delivery_log(tenant, hook["idhook"])
            return bool(log) and bool(log[0]["attempts"])

        wait_until(attempted)
    finally:
        dripping.close()

    [delivery] = delivery_log(tenant, hook["idhook"])[:1]
    attempt = delivery["attempts"][-1]
    assert attempt["status"] == status
    assert attempt["duration_ms"] >= 900
    assert set(attempt["response"] or "") <= {"d"}
    assert delivery["state"] == state
    assert attempt["error"] == (None if status == 200 else "answered 503 Dripping")
