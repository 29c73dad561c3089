"""Links sent by mail, through a real SMTP server: a forgotten password, an invitation and
a new e-mail address, each followed from the mail that arrived."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.clock import utcnow
from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.tables import mail_outbox, one_time_tokens, password_requests
from tests.factories import CUSTOMERS, Tenant
from tests.hooks.helpers import CHANGED, HOOKS, stored_deliveries
from tests.mail.smtp import Inbox, link_in, text_of

from .helpers import PASSWORD, form_token, log_in, post_form, untranslated

BASE = "/portal/acme/"
NEW_PASSWORD = "chosen from a link"


@pytest.fixture
def settings(database_url: str, smtp_port: int) -> Settings:
    """Every app of these tests sends through the test's SMTP server."""
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        mail_from="portal@warehouse.example",
        public_url="http://testserver",
        hooks_allow_private=True,
    )


def _forgot(client: TestClient, identifier: str, language: str = "", **headers: str) -> Any:
    form = client.get(f"{BASE}forgot?lang={language}", headers=headers)
    assert form.status_code == 200
    return client.post(
        f"{BASE}forgot",
        data={"csrf_token": form_token(form.text), "identifier": identifier, "language": language},
        headers=headers,
    )


def _set_password(client: TestClient, link: str, password: str, again: str | None = None) -> Any:
    form = client.get(link)
    assert form.status_code == 200, form.text
    return client.post(
        f"{BASE}reset",
        data={
            "csrf_token": form_token(form.text),
            "token": link.split("token=")[1],
            "new_password": password,
            "new_password_again": password if again is None else again,
        },
        follow_redirects=False,
    )


def test_a_forgotten_password_is_set_again_from_the_mail(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any], inbox: Inbox
) -> None:
    # A session from before: the new password ends it.
    assert log_in(client, BASE, "jansen", PASSWORD).status_code == 303
    other = TestClient(client.app)
    answer = _forgot(other, "JANSEN")
    assert answer.status_code == 200
    assert "is er een link onderweg om een nieuw wachtwoord te kiezen" in answer.text

    [mail] = inbox.wait_for(1)
    assert inbox.messages[0][0] == ["info@jansen.example"]
    assert mail["Subject"] == "Kies een nieuw wachtwoord voor Acme BV"
    assert "het account Jansen bij Acme BV" in text_of(mail)
    link = link_in(mail)
    assert link.startswith("http://testserver/portal/acme/reset?lang=nl&token=")

    # Two passwords that differ: the form again, the link still good.
    differ = _set_password(other, link, NEW_PASSWORD, "something else")
    assert differ.status_code == 400
    # Beside the field it is about, linked from the summary.
    assert '<a href="#new_password_again">' in differ.text
    assert 'aria-describedby="new_password_again-error" aria-invalid="true"' in differ.text
    done = _set_password(other, link, NEW_PASSWORD)
    assert done.status_code == 303
    assert done.headers["location"] == f"{BASE}login?notice=password-set"

    assert client.get(BASE, follow_redirects=False).headers["location"].endswith("ended")
    assert log_in(other, BASE, "jansen", PASSWORD).status_code == 401
    assert log_in(other, BASE, "jansen", NEW_PASSWORD).status_code == 303

    # The link worked once.
    again = other.get(link)
    assert again.status_code == 410
    assert "Deze link is verlopen of al gebruikt." in again.text
    events = tenant.get(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}/history").json()
    portal = {"type": "portal", "id": jansen["idfulfilment_customer"], "name": "Jansen"}
    changes = [(e["action"], e["actor"], e["changes"]) for e in events]
    assert ("update", portal, {"password": "changed"}) in changes


def test_an_unknown_name_gets_the_same_page_and_no_mail(
    client: TestClient, jansen: dict[str, Any], smith: dict[str, Any], inbox: Inbox
) -> None:
    english = {"accept-language": "en"}
    unknown = _forgot(client, "nobody@example.com", **english)
    no_address = _forgot(client, "smith", **english)  # smith has no e-mail address
    known = _forgot(client, "info@jansen.example", **english)

    def shown(page: Any) -> str:
        return page.text.split("<main")[1].split("</main>")[0]

    assert unknown.status_code == no_address.status_code == known.status_code == 200
    assert shown(unknown) == shown(no_address) == shown(known)
    [mail] = inbox.wait_for(1)
    assert mail["To"] == "info@jansen.example"
    client.get("/health")  # the worker had its chance at anything else
    inbox.wait_for(1)
    assert len(inbox.messages) == 1


def test_an_expired_link_is_refused(
    client: TestClient, database: Database, jansen: dict[str, Any], inbox: Inbox
) -> None:
    _forgot(client, "jansen")
    link = link_in(inbox.wait_for(1)[0])
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(one_time_tokens).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused = client.get(link)
    assert refused.status_code == 410
    assert f'href="{BASE}forgot"' in refused.text
    token = link.split("token=")[1]
    page = client.get(f"{BASE}forgot")
    posted = client.post(
        f"{BASE}reset",
        data={
            "csrf_token": form_token(page.text),
            "token": token,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert posted.status_code == 410
    assert log_in(client, BASE, "jansen", PASSWORD).status_code == 303


def test_asking_is_throttled_per_client_address_and_per_recipient(
    client: TestClient, jansen: dict[str, Any], inbox: Inbox
) -> None:
    # One app (the one whose engine runs the queued requests), with the default limits:
    # 5 mails an hour per recipient, 20 requests an hour per client address.
    for number in range(6):
        visitor = TestClient(client.app, client=(f"192.0.2.{number}", 5000))
        # The recipient's limit is silent: the same page, no more mails.
        assert _forgot(visitor, "info@jansen.example").status_code == 200
    answers = [_forgot(client, "nobody").status_code for _ in range(21)]
    assert answers == [200] * 20 + [429]
    refused = _forgot(client, "jansen")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    inbox.wait_for(5)
    # Every queued request has run: the sixth asked for no mail.
    database: Database = client.app.state.database
    pending = sa.select(sa.func.count()).where(password_requests.c.state == "pending")
    deadline = time.monotonic() + 15
    while _scalar(database, pending):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with database.engine.connect() as connection:
        mails = connection.execute(sa.select(sa.func.count()).select_from(mail_outbox))
        assert mails.scalar_one() == 5


def _scalar(database: Database, statement: sa.Select[Any]) -> Any:
    with database.engine.connect() as connection:
        return connection.execute(statement).scalar_one()


def test_an_invited_customer_chooses_a_password_and_may_log_in(
    client: TestClient, tenant: Tenant, database_url: str, inbox: Inbox, settings: Settings
) -> None:
    customer = tenant.create_customer(
        name="Pietersen", username="pietersen", emailaddress="piet@example.com", language="en"
    )
    environment = {
        **os.environ,
        "FULFILMENT_DATABASE_URL": database_url,
        "FULFILMENT_SMTP_URL": str(settings.smtp_url),
        "FULFILMENT_MAIL_FROM": "portal@warehouse.example",
        "FULFILMENT_PUBLIC_URL": "http://testserver",
    }
    command = [sys.executable, "-m", "fulfilment.cli", "mail", "invite-customer"]
    done = subprocess.run(
        [*command, "--account", "acme", str(customer["idfulfilment_customer"])],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "piet@example.com" in done.stderr
    nobody = subprocess.run(
        [*command, "--account", "acme", "999999"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert nobody.returncode == 1
    assert "999999" in nobody.stderr

    [mail] = inbox.wait_for(1, seconds=15)
    assert mail["Subject"] == "Your account at the customer portal of Acme BV"
    assert "Your username is pietersen." in text_of(mail)
    assert log_in(client, BASE, "pietersen", NEW_PASSWORD).status_code == 401
    form = client.get(link_in(mail))
    assert "Choose your password" in form.text
    assert _set_password(client, link_in(mail), NEW_PASSWORD).status_code == 303
    assert log_in(client, BASE, "pietersen", NEW_PASSWORD).status_code == 303
    seen = tenant.get(f"{CUSTOMERS}/{customer['idfulfilment_customer']}").json()
    assert seen["can_login"] is True


def test_a_new_address_takes_effect_from_its_mailbox_and_the_old_one_is_told(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any], inbox: Inbox
) -> None:
    log_in(client, BASE, "jansen", PASSWORD)
    page = client.get(f"{BASE}email")
    assert page.status_code == 200
    wrong = post_form(
        client, BASE, "email", page, current_password="wrong", new_address="new@jansen.example"
    )
    assert wrong.status_code == 400
    assert 'id="current_password-error"' in wrong.text
    invalid = post_form(
        client, BASE, "email", page, current_password=PASSWORD, new_address="not an address"
    )
    assert invalid.status_code == 400
    assert '<a href="#new_address">' in invalid.text
    assert "<title>Fout: " in invalid.text
    asked = post_form(
        client, BASE, "email", page, current_password=PASSWORD, new_address="new@jansen.example"
    )
    # POST, redirect, GET.
    assert asked.status_code == 303
    assert asked.headers["location"] == f"{BASE}email?sent=1"
    assert "Uw adres verandert zodra u die volgt" in client.get(asked.headers["location"]).text

    [confirmation] = inbox.wait_for(1)
    assert inbox.messages[0][0] == ["new@jansen.example"]
    assert confirmation["Subject"] == "Bevestig uw nieuwe e-mailadres voor Acme BV"
    link = link_in(confirmation)
    seen = tenant.get(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}").json()
    assert seen["emailaddress"] == "info@jansen.example"

    # Opening the link changes nothing (mail programs open links to look at them).
    opened = client.get(link)
    assert opened.status_code == 200
    assert tenant.get(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}").json()["emailaddress"] == (
        "info@jansen.example"
    )
    confirmed = client.post(
        f"{BASE}email/confirm",
        data={"csrf_token": form_token(opened.text), "token": link.split("token=")[1]},
        follow_redirects=False,
    )
    # POST, redirect, GET: a new address ends the customer's sessions, so to the login.
    assert confirmed.status_code == 303
    assert "notice=email-changed" in confirmed.headers["location"]
    assert "Uw e-mailadres is gewijzigd" in client.get(confirmed.headers["location"]).text
    seen = tenant.get(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}").json()
    assert seen["emailaddress"] == "new@jansen.example"

    [_, notice] = inbox.wait_for(2)
    assert inbox.messages[1][0] == ["info@jansen.example"]
    assert "is nu new@jansen.example" in text_of(notice)
    assert client.get(link).status_code == 410
    # The forgotten password now goes to the new address.
    _forgot(TestClient(client.app), "new@jansen.example")
    inbox.wait_for(3)
    assert inbox.messages[2][0] == ["new@jansen.example"]


def test_the_new_pages_show_only_catalogue_words(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any], inbox: Inbox
) -> None:
    data = [tenant.account.name, "Jansen Tuinmeubelen", "Jansen", "info@jansen.example"]
    data += ["new@jansen.example", "Main", "PostNL", "Signature", "Default"]
    for language in ("nl", "en"):
        pages = [client.get(f"{BASE}forgot?lang={language}"), _forgot(client, "x", language)]
        pages.append(client.get(f"{BASE}reset?lang={language}&token=nothing"))
        pages.append(client.get(f"{BASE}email/confirm?lang={language}&token=nothing"))
        for page in pages:
            assert f'<html lang="{language}">' in page.text
            assert untranslated(page.text, language, data) == [], page.url
    _forgot(client, "jansen")
    reset = client.get(link_in(inbox.wait_for(1)[0]))
    log_in(client, BASE, "jansen", PASSWORD)
    email = client.get(f"{BASE}email")
    sent = post_form(
        client, BASE, "email", email, current_password=PASSWORD, new_address="new@jansen.example"
    )
    confirm = client.get(link_in(inbox.wait_for(2)[1]))
    for page in (reset, email, sent, confirm, client.get(BASE), client.get(f"{BASE}login")):
        assert untranslated(page.text, "nl", data) == [], page.url


def test_a_password_link_dies_when_the_address_changes(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any], inbox: Inbox
) -> None:
    _forgot(client, "jansen")
    link = link_in(inbox.wait_for(1)[0])
    moved = tenant.put(
        f"{CUSTOMERS}/{jansen['idfulfilment_customer']}", {"emailaddress": "other@jansen.example"}
    )
    assert moved.status_code == 200
    refused = _set_password(client, link, NEW_PASSWORD)
    assert refused.status_code == 410
    assert log_in(client, BASE, "jansen", PASSWORD).status_code == 303


def test_changes_made_from_links_are_events_for_hooks(
    client: TestClient,
    tenant: Tenant,
    jansen: dict[str, Any],
    inbox: Inbox,
    database: Database,
) -> None:
    hook = {"name": "crm", "event": CHANGED, "address": "http://127.0.0.1:9/changed"}
    assert tenant.post(HOOKS, hook).status_code == 200
    assert stored_deliveries(database) == []
    other = TestClient(client.app)
    _forgot(other, "jansen")
    [reset] = inbox.wait_for(1)
    assert _set_password(other, link_in(reset), NEW_PASSWORD).status_code == 303

    log_in(client, BASE, "jansen", NEW_PASSWORD)
    page = client.get(f"{BASE}email")
    asked = post_form(
        client, BASE, "email", page, current_password=NEW_PASSWORD, new_address="n@jansen.example"
    )
    assert asked.status_code == 303
    link = link_in(inbox.wait_for(2)[1])
    opened = client.get(link)
    client.post(
        f"{BASE}email/confirm",
        data={"csrf_token": form_token(opened.text), "token": link.split("token=")[1]},
    )

    deliveries = stored_deliveries(database)
    assert [delivery["event"] for delivery in deliveries] == [CHANGED, CHANGED]
    customers = [json.loads(delivery["data"]) for delivery in deliveries]
    assert [customer["emailaddress"] for customer in customers] == [
        "info@jansen.example",
        "n@jansen.example",
    ]
    assert customers[1] == tenant.get(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}").json()


def test_asking_for_a_link_ends_on_a_get_that_says_the_same_for_anyone(
    client: TestClient, jansen: dict[str, Any], inbox: Inbox
) -> None:
    locations = []
    for identifier in ("jansen", "nobody at all"):
        form = client.get(f"{BASE}forgot?lang=nl")
        answer = client.post(
            f"{BASE}forgot",
            data={"csrf_token": form_token(form.text), "identifier": identifier,
                  "language": "nl"},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303
        locations.append(answer.headers["location"])
    assert locations == [f"{BASE}forgot?lang=nl&sent=1"] * 2
    inbox.wait_for(1)
    sent = client.get(locations[0]).text
    assert "is er een link onderweg om een nieuw wachtwoord te kiezen" in sent
