"""Inviting a staff user from the back office, through a real SMTP server: the user is made
with a password nobody knows and mailed a link to choose one; the invitation is in the
account's audit log, by the administrator who sent it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.staff.schemas import User
from fulfilment.tables import account_events, staff_users
from tests.factories import API, Tenant
from tests.mail.smtp import Inbox, link_in, text_of
from tests.portal.helpers import form_token, shown_texts, untranslated

from .helpers import BASE, log_in, send

CHOSEN = "chosen from the invitation"
DATES = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@pytest.fixture
def settings(database_url: str, smtp_port: int) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        mail_from="office@warehouse.example",
        public_url="http://testserver",
    )


def _users(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        statement = sa.select(staff_users.c.username).order_by(staff_users.c.iduser)
        return list(connection.execute(statement).scalars())


def test_an_administrator_invites_a_staff_user_by_mail(
    client: TestClient, tenant: Tenant, anna: User, inbox: Inbox, database: Database
) -> None:
    log_in(client, "anna")
    page = client.get(f"{BASE}users")
    assert "Invite a staff user" in shown_texts(page.text)
    fields = {"username": "els", "emailaddress": "els@warehouse.example", "firstname": "Els",
              "lastname": "de Vries", "language": "nl"}  # fmt: skip
    for field, wrong in (("username", " els"), ("emailaddress", "not an address"),
                         ("language", "fr"), ("username", "ANNA")):  # fmt: skip
        refused = send(client, "users/invite", page, **{**fields, field: wrong})
        assert refused.status_code == 400, (field, wrong)
        assert f'id="{field}-error"' in refused.text, (field, wrong)
        shown = DATES.sub("", refused.text)
        data = ["Acme BV", "Anna Smit", "anna", "Els", "de Vries", "anna@warehouse.example", wrong]
        assert untranslated(shown, "en", data) == []
    assert _users(database) == ["anna"]
    assert inbox.messages == []

    invited = send(client, "users/invite", page, **fields, admin="1")
    assert invited.status_code == 303
    user_page = client.get(invited.headers["location"])
    assert (
        "The staff user has been invited: a link to choose a password is on its way."
        in shown_texts(user_page.text)
    )
    [mail] = inbox.wait_for(1)
    assert mail["To"] == "els@warehouse.example"
    assert "Uw gebruikersnaam is els." in text_of(mail)
    link = link_in(mail)
    assert link.startswith("http://testserver/admin/acme/reset?lang=nl&token=")

    # Els chooses a password from the mail and logs in with it.
    els = TestClient(client.app)
    form = els.get(link)
    assert form.status_code == 200
    chosen = els.post(
        f"{BASE}reset",
        data={"csrf_token": form_token(form.text), "token": link.split("token=")[1],
              "new_password": CHOSEN, "new_password_again": CHOSEN},
        follow_redirects=False,
    )  # fmt: skip
    assert chosen.status_code == 303
    assert log_in(els, "els", CHOSEN).status_code == 303
    iduser = int(invited.headers["location"].split("/")[-1].split("?")[0])
    user = tenant.get(f"{API}/users/{iduser}").json()
    assert (user["username"], user["admin"], user["language"]) == ("els", True, "nl")

    with database.engine.connect() as connection:
        events = connection.execute(
            sa.select(account_events.c.action, account_events.c.actor_name).where(
                account_events.c.subject_name == "els"
            )
        ).all()
    # The invitation, and its acceptance by the new user.
    assert [tuple(event) for event in events] == [("invite", "anna"), ("accept_invitation", "els")]
    audit = client.get(f"{BASE}audit?what=staff_user")
    assert "invited staff user els" in shown_texts(audit.text)
