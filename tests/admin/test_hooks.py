"""The administrators' webhooks pages: create (a refused address beside its field), edit,
a new secret shown once and signing from then on, deactivate and reactivate, a test event,
and the delivery log with each attempt; every change in the account's audit trail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment.accounts import audit
from fulfilment.app import create_app
from fulfilment.db import Connection, Database
from fulfilment.hooks.schemas import EVENTS
from fulfilment.settings import Settings
from fulfilment.staff.schemas import User
from fulfilment.tables import account_events
from tests.factories import API, Tenant
from tests.hooks.receiver import Received, Receiver
from tests.portal.helpers import shown_texts, untranslated

from .conftest import make_user
from .helpers import BASE, log_in, send

SECRET = re.compile(r'<code class="secret">([^<]+)</code>')
DATES = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The receiver is on 127.0.0.1; a quick worker.
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        hooks_allow_private=True,
        hooks_poll_seconds=0.05,
        hooks_retry_scale=0.01,
        encryption_key="test-encryption-key-0123456789abcdef",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().up()
    try:
        yield receiver
    finally:
        receiver.down()


def _signed_with(received: Received, secret: str) -> bool:
    digest = hmac.new(secret.encode(), received.body, hashlib.sha256).digest()
    return received.header("X-Picqer-Signature") == base64.b64encode(digest).decode()


def _hook_events(database: Database) -> list[tuple[object, ...]]:
    columns = (account_events.c.action, account_events.c.changes)
    statement = (
        sa.select(*columns).where(account_events.c.subject == "hook").order_by(account_events.c.id)
    )
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def test_an_administrator_manages_webhooks(
    client: TestClient, tenant: Tenant, anna: User, receiver: Receiver, database: Database
) -> None:
    log_in(client, "anna")
    page = client.get(f"{BASE}hooks")
    assert page.status_code == 200
    assert "There are no webhooks on this page." in shown_texts(page.text)
    fields = {"name": "Shop", "event": "fulfilment_customers.created", "address": receiver.url}
    for problem, wrong in (("name", {"name": " "}), ("address", {"address": "ftp://x"}),
                           ("event", {"event": "ping"})):  # fmt: skip
        refused = send(client, "hooks/new", page, **{**fields, **wrong}, sign="1")
        assert refused.status_code == 400, problem
        assert f'id="{problem}-error"' in refused.text, problem
    # POST, redirect, GET: the secret is on the hook's page once, a reload shows it no more.
    posted = send(client, "hooks/new", page, **fields, sign="1")
    assert posted.status_code == 303
    created = client.get(posted.headers["location"])
    found = SECRET.search(created.text)
    assert found is not None
    secret = found.group(1)
    idhook = re.findall(r"hooks/(\d+)/deliveries", created.text)[0]
    assert posted.headers["location"].startswith(f"{BASE}hooks/{idhook}?notice=hook-saved&once=")
    assert secret not in client.get(posted.headers["location"]).text
    again = send(client, "hooks/new", page, **fields)
    assert "This account already has a webhook for this event at this address." in shown_texts(
        again.text
    )

    # A test event, signed with the secret shown.
    hook_page = client.get(f"{BASE}hooks/{idhook}")
    assert secret not in hook_page.text
    tested = send(client, f"hooks/{idhook}/test", hook_page)
    assert tested.headers["location"] == f"{BASE}hooks/{idhook}/deliveries?notice=hook-tested"
    (ping,) = receiver.wait_count(1)
    assert ping.payload["event"] == "ping"
    assert _signed_with(ping, secret)

    # A new secret signs from now on; a new name and address are kept.
    # Asked first: the old secret stops signing at once.
    question = client.get(f"{BASE}hooks/{idhook}/secret")
    assert "Replace the secret of webhook Shop?" in shown_texts(question.text)
    rotated = send(client, f"hooks/{idhook}/secret", question)
    assert rotated.status_code == 303
    found = SECRET.search(client.get(rotated.headers["location"]).text)
    assert found is not None
    new_secret = found.group(1)
    assert new_secret != secret
    edited = send(client, f"hooks/{idhook}/edit", hook_page, name="Webshop",
                  address=receiver.url + "?v=2")  # fmt: skip
    assert edited.headers["location"] == f"{BASE}hooks/{idhook}?notice=hook-saved"
    bad = send(client, f"hooks/{idhook}/edit", hook_page, name="Webshop", address="not a url")
    assert bad.status_code == 400
    assert 'value="not a url"' in bad.text
    send(client, f"hooks/{idhook}/test", hook_page)
    second = receiver.wait_count(2)[1]
    assert second.path.endswith("?v=2")
    assert _signed_with(second, new_secret)
    assert not _signed_with(second, secret)

    # Off, a test is refused; on again.
    question = client.get(f"{BASE}hooks/{idhook}/deactivate")
    assert "Deactivate webhook Webshop?" in shown_texts(question.text)
    assert f'action="{BASE}hooks/{idhook}/deactivate"' in question.text
    off = send(client, f"hooks/{idhook}/deactivate", question)
    assert off.headers["location"].endswith("?notice=hook-deactivated")
    off_page = client.get(off.headers["location"])
    assert "Send a test event" not in shown_texts(off_page.text)
    assert send(client, f"hooks/{idhook}/test", off_page).status_code == 400
    on = send(client, f"hooks/{idhook}/reactivate", off_page)
    assert on.headers["location"].endswith("?notice=hook-reactivated")

    # The delivery log: a failed attempt with its status, then the delivered one.
    receiver.status = 500
    send(client, f"hooks/{idhook}/test", hook_page)
    receiver.wait_for(lambda _: receiver.failures >= 1)
    receiver.status = 200
    receiver.wait_count(3)
    # The worker records the answer just after the receiver has it.
    deadline = time.monotonic() + 5
    while True:
        texts = shown_texts(client.get(f"{BASE}hooks/{idhook}/deliveries").text)
        if texts.count("Delivered") == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert texts.count("Delivered") == 3
    assert "500" in texts
    assert "answered 500 Internal Server Error" in texts
    assert any(re.fullmatch(r"\d+ ms", text) for text in texts)
    listing = shown_texts(client.get(f"{BASE}hooks").text)
    assert "Webshop" in listing

    actions = [action for action, _ in _hook_events(database)]
    assert actions == ["create", "update", "update", "deactivate", "reactivate"]
    assert _hook_events(database)[1][1] == '{"secret":"changed"}'
    assert client.get(f"{BASE}hooks/999999").status_code == 404
    assert client.get(f"{BASE}hooks/999999/deliveries").status_code == 404


def test_an_address_inside_the_network_is_refused_beside_its_field(
    database_url: str, tenant: Tenant, anna: User
) -> None:
    settings = Settings(database_url=database_url, rate_limit="1000000/minute")
    with TestClient(create_app(settings)) as client:
        log_in(client, "anna")
        page = client.get(f"{BASE}hooks")
        for address in ("http://127.0.0.1:8000/hook", "http://10.1.2.3/", "http://[::1]/"):
            refused = send(client, "hooks/new", page, name="Inside",
                           event="fulfilment_customers.created", address=address)  # fmt: skip
            assert refused.status_code == 400
            assert (
                "This address cannot receive webhooks: use an http or https address on the "
                "public internet." in shown_texts(refused.text)
            )
            assert 'aria-invalid="true"' in refused.text
        assert "There are no webhooks on this page." in shown_texts(refused.text)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_webhooks_pages_show_only_catalogue_words(
    client: TestClient, tenant: Tenant, database: Database, receiver: Receiver, language: str
) -> None:
    make_user(database, tenant, "baas", firstname="Sam", lastname="Jones", language=language,
              admin=True)  # fmt: skip
    log_in(client, "baas", language=language)
    page = client.get(f"{BASE}hooks")
    refused = send(client, "hooks/new", page, name="", event="fulfilment_customers.changed",
                   address="ftp://nowhere")  # fmt: skip
    posted = send(client, "hooks/new", page, name="Shop", event="fulfilment_customers.changed",
                  address=receiver.url, sign="1")  # fmt: skip
    created = client.get(posted.headers["location"])
    idhook = re.findall(r"hooks/(\d+)/deliveries", created.text)[0]
    hook_page = client.get(f"{BASE}hooks/{idhook}")
    receiver.status = 500
    send(client, f"hooks/{idhook}/test", hook_page)
    receiver.wait_for(lambda _: receiver.failures >= 1)
    pending = client.get(f"{BASE}hooks/{idhook}/deliveries?notice=hook-tested")
    receiver.status = 200
    receiver.wait_count(1)
    question = client.get(f"{BASE}hooks/{idhook}/deactivate")
    send(client, f"hooks/{idhook}/deactivate", hook_page)
    pages = [
        page, refused, created, pending, client.get(f"{BASE}hooks"), hook_page, question,
        client.get(f"{BASE}hooks/{idhook}/secret"),
        client.get(f"{BASE}hooks/{idhook}/deliveries"),
        client.get(f"{BASE}hooks/{idhook}?notice=hook-deactivated"),
        send(client, f"hooks/{idhook}/test", hook_page),
        send(client, f"hooks/{idhook}/edit", hook_page, name="Shop", address="http://"),
        client.get(f"{BASE}hooks/{idhook}?notice=hook-reactivated"),
        client.get(f"{BASE}hooks/{idhook}?notice=hook-saved"),
        client.get(f"{BASE}hooks/999999"),
        client.get(f"{BASE}audit?what=hook"),
    ]  # fmt: skip
    data = ["Acme BV", "Sam Jones", "Shop", "baas", "TIME", "1", "500", "200", receiver.url]
    for shown in pages:
        assert f'<html lang="{language}">' in shown.text, shown.url
        # Times, addresses, event names and the receiver's own words are data.
        text = DATES.sub("TIME", shown.text)
        text = re.sub(r"<code[^>]*>[^<]*</code>", "", text)
        text = re.sub(r'value="[^"]*"', "", text)
        assert untranslated(text, language, data) == [], shown.url


def test_hook_changes_through_the_api_are_in_the_audit_log_by_their_key(
    client: TestClient, tenant: Tenant, anna: User, receiver: Receiver, database: Database
) -> None:
    body = {"name": "App", "event": "fulfilment_customers.created", "address": receiver.url}
    hook = tenant.post(f"{API}/hooks", body).json()
    assert tenant.put(f"{API}/hooks/{hook['idhook']}", {"secret": "a shared secret"}).is_success
    assert tenant.client.delete(f"{API}/hooks/{hook['idhook']}", auth=tenant.auth).is_success
    assert tenant.client.delete(f"{API}/hooks/{hook['idhook']}", auth=tenant.auth).is_success
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(account_events.c.action, account_events.c.actor_type)
            .where(account_events.c.subject == "hook")
            .order_by(account_events.c.id)
        ).all()
    # Deactivating twice is one change.
    assert [tuple(row) for row in rows] == [
        ("create", "api_key"),
        ("update", "api_key"),
        ("deactivate", "api_key"),
    ]
    log_in(client, "anna")
    texts = shown_texts(client.get(f"{BASE}audit", params={"what": "hook"}).text)
    assert any(re.fullmatch(r"API key tests \(fk_[\w-]+…\)", text) for text in texts)
    assert "deactivated webhook App" in texts
    assert "Secret changed" in texts


def test_a_hook_the_service_deactivated_is_in_the_audit_log_by_the_service(
    client: TestClient, tenant: Tenant, anna: User, database: Database
) -> None:
    async def deactivated(connection: Connection) -> None:
        await audit.record(
            connection, tenant.account.id, audit.SYSTEM, "hook", 7, "Shop", "deactivate",
            {"because": "failing"},
        )  # fmt: skip

    database.write_sync(deactivated)
    log_in(client, "anna")

    shown = client.get(f"{BASE}audit", params={"who": "system"})

    texts = shown_texts(shown.text)
    assert "The service" in texts
    assert "deactivated webhook Shop" in texts
    assert '<option value="system" selected>The service</option>' in shown.text


def test_a_webhook_past_the_accounts_limit_is_refused_with_a_clear_page(
    settings: Settings, database: Database, tenant: Tenant, anna: User, receiver: Receiver
) -> None:
    with TestClient(create_app(replace(settings, hooks_per_account=1))) as client:
        log_in(client, "anna")
        page = client.get(f"{BASE}hooks")
        first = send(client, "hooks/new", page, name="One", event=EVENTS[0], address=receiver.url)
        assert first.status_code == 303, first.text

        second = send(
            client, "hooks/new", page, name="Two", event=EVENTS[0], address=receiver.url + "/2"
        )

        assert second.status_code == 400
        assert (
            "The account already has 1 active webhooks, the most it may have: "
            "deactivate one first." in shown_texts(second.text)
        )
        assert len(tenant.get(f"{API}/hooks").json()) == 1


def test_the_hook_forms_report_every_problem_in_one_round(
    client: TestClient, tenant: Tenant, anna: User, receiver: Receiver, database: Database
) -> None:
    log_in(client, "anna")
    page = client.get(f"{BASE}hooks")
    every = send(client, "hooks/new", page, name=" ", event="ping", address="ftp://x")
    assert every.status_code == 400
    for field in ("name", "event", "address"):
        assert f'id="{field}-error"' in every.text, field
    assert every.text.count('aria-invalid="true"') == 3
    made = send(client, "hooks/new", page, name="Shop", event=EVENTS[0], address=receiver.url)
    assert made.status_code == 303
    idhook = made.headers["location"].split("hooks/")[1].split("?")[0]

    # A taken address is found beside a bad name, not after it is fixed.
    taken = send(client, "hooks/new", page, name="", event=EVENTS[0], address=receiver.url)
    texts = shown_texts(taken.text)
    assert taken.status_code == 400
    assert "Enter a name of at most 255 characters." in texts
    assert "This account already has a webhook for this event at this address." in texts
    other = send(client, "hooks/new", page, name="Other", event=EVENTS[1], address=receiver.url)
    assert other.status_code == 303

    hook_page = client.get(f"{BASE}hooks/{idhook}")
    edited = send(client, f"hooks/{idhook}/edit", hook_page, name="", address="ftp://x")
    assert edited.status_code == 400
    assert 'id="name-error"' in edited.text
    assert 'id="address-error"' in edited.text
    # Its own address is not "taken"; the same address of another event's hook is allowed.
    kept = send(client, f"hooks/{idhook}/edit", hook_page, name="Shop 2", address=receiver.url)
    assert kept.status_code == 303
    assert [event for event, _ in _hook_events(database)] == ["create", "create", "update"]
