"""A staff user's forgotten password, through a real SMTP server: the link in the mail sets
a new password once, ends every session, and leaves the second factor in place."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.staff import service as staff
from fulfilment.staff.schemas import User
from tests.factories import Tenant
from tests.mail.smtp import Inbox, link_in, text_of
from tests.portal.helpers import form_token, untranslated

from .helpers import BASE, PASSWORD, log_in, send

NEW_PASSWORD = "chosen from the mail"


@pytest.fixture
def settings(database_url: str, smtp_port: int) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        mail_from="office@warehouse.example",
        public_url="http://testserver",
    )


def _forgot(client: TestClient, identifier: str, language: str = "en") -> Any:
    form = client.get(f"{BASE}forgot?lang={language}")
    assert form.status_code == 200
    return client.post(
        f"{BASE}forgot",
        data={"csrf_token": form_token(form.text), "identifier": identifier, "language": language},
    )


def _set_password(client: TestClient, link: str, password: str) -> Any:
    form = client.get(link)
    assert form.status_code == 200, form.text
    return client.post(
        f"{BASE}reset",
        data={
            "csrf_token": form_token(form.text),
            "token": link.split("token=")[1],
            "new_password": password,
            "new_password_again": password,
        },
        follow_redirects=False,
    )


def test_a_staff_user_sets_a_forgotten_password_from_the_mail(
    client: TestClient, anna: User, piet: User, inbox: Inbox
) -> None:
    assert log_in(client, "anna").status_code == 303
    visitor = TestClient(client.app)
    unknown = _forgot(visitor, "nobody@warehouse.example")
    known = _forgot(visitor, "ANNA@warehouse.example")
    assert unknown.status_code == known.status_code == 200
    assert unknown.text.split("<main")[1] == known.text.split("<main")[1]
    assert untranslated(known.text, "en", ["Acme BV"]) == []

    [mail] = inbox.wait_for(1)
    assert mail["To"] == "anna@warehouse.example"
    assert mail["Subject"] == "Choose a new password for the back office of Acme BV"
    assert "the back office account anna at Acme BV" in text_of(mail)
    link = link_in(mail)
    assert link.startswith("http://testserver/admin/acme/reset?lang=en&token=")
    done = _set_password(visitor, link, NEW_PASSWORD)
    assert done.status_code == 303
    assert done.headers["location"] == f"{BASE}login?notice=password-set"

    # Every session ended; the old password is gone, the new one works.
    assert client.get(f"{BASE}customers", follow_redirects=False).status_code == 303
    assert log_in(visitor, "anna").status_code == 401
    assert log_in(visitor, "anna", NEW_PASSWORD).status_code == 303
    used = visitor.get(link)
    assert used.status_code == 410
    assert "This link has expired or has already been used." in used.text
    assert len(inbox.messages) == 1


def test_a_deactivated_user_gets_no_mail(
    client: TestClient, anna: User, piet: User, inbox: Inbox, tenant: Tenant, database: Database
) -> None:
    database.write_sync(lambda connection: staff.deactivate(connection, tenant.account, "piet"))
    assert _forgot(client, "piet", "nl").status_code == 200
    assert _forgot(client, "anna-does-not-exist").status_code == 200
    # A known user's mail after them: only that one arrives.
    assert _forgot(client, "anna").status_code == 200
    [mail] = inbox.wait_for(1)
    assert mail["To"] == "anna@warehouse.example"
    client.get("/health")
    assert len(inbox.messages) == 1


def test_an_invited_staff_user_chooses_a_password(
    client: TestClient, piet: User, inbox: Inbox, settings: Settings
) -> None:
    environment = {
        **os.environ,
        "FULFILMENT_DATABASE_URL": settings.database_url,
        "FULFILMENT_SMTP_URL": str(settings.smtp_url),
        "FULFILMENT_MAIL_FROM": str(settings.mail_from),
        "FULFILMENT_PUBLIC_URL": str(settings.public_url),
    }
    command = [sys.executable, "-m", "fulfilment.cli", "mail", "invite-user", "--account", "acme"]
    done = subprocess.run(
        [*command, "PIET"], env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "piet@warehouse.example" in done.stderr
    nobody = subprocess.run(
        [*command, "nobody"], env=environment, capture_output=True, text=True, check=False
    )
    assert nobody.returncode == 1
    assert "nobody" in nobody.stderr

    [mail] = inbox.wait_for(1, seconds=15)
    assert mail["Subject"] == "Uw account in de backoffice van Acme BV"
    assert "Uw gebruikersnaam is piet." in text_of(mail)
    assert _set_password(client, link_in(mail), NEW_PASSWORD).status_code == 303
    assert log_in(client, "piet", NEW_PASSWORD).status_code == 303


def test_a_staff_user_changes_the_address_from_its_new_mailbox(
    client: TestClient, anna: User, inbox: Inbox, tenant: Tenant, database: Database
) -> None:
    assert log_in(client, "anna").status_code == 303
    page = client.get(f"{BASE}email")
    assert page.status_code == 200
    assert untranslated(page.text, "en", ["Acme BV", "Anna Smit"]) == []
    wrong = send(client, "email", page, current_password="wrong", new_address="a@new.example")
    assert wrong.status_code == 400
    asked = send(client, "email", page, current_password=PASSWORD, new_address="a@new.example")
    # POST, redirect, GET.
    assert asked.status_code == 303
    assert asked.headers["location"] == f"{BASE}email?sent=1"
    assert "Your address changes once you follow it" in client.get(asked.headers["location"]).text

    [confirmation] = inbox.wait_for(1)
    assert confirmation["To"] == "a@new.example"
    link = link_in(confirmation)
    opened = client.get(link)
    assert opened.status_code == 200
    confirmed = client.post(
        f"{BASE}email/confirm",
        data={"csrf_token": form_token(opened.text), "token": link.split("token=")[1]},
        follow_redirects=False,
    )
    # POST, redirect, GET: a new address ends the user's sessions, so to the login.
    assert confirmed.status_code == 303
    ended = client.get(confirmed.headers["location"])
    assert "Your e-mail address has been changed. Log in again." in ended.text
    users = database.write_sync(lambda c: staff.all_users(c, tenant.account))
    assert [user.emailaddress for user in users if user.username == "anna"] == ["a@new.example"]

    [_, notice] = inbox.wait_for(2)
    assert notice["To"] == "anna@warehouse.example"
    assert "is now a@new.example" in text_of(notice)
    assert client.get(link).status_code == 410
