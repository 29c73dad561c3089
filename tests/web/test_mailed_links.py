"""Links sent by mail, on both sites and from the command line: they lead to
FULFILMENT_PUBLIC_URL whatever Host the request that asked for them named, and each kind
works for an hour, not a minute longer."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.staff.schemas import User
from fulfilment.tables import fulfilment_customers, one_time_tokens
from tests.admin import helpers as admin
from tests.factories import Tenant
from tests.mail.smtp import Inbox, link_in
from tests.portal import helpers as portal

from .conftest import PUBLIC_URL

# The Host a visitor's request names: anyone may send any.
FORGED_HOST = "http://attacker.example"
PORTAL = "/portal/acme/"
OFFICE = "/admin/acme/"
LIFETIME = timedelta(hours=1)


def _visitor(client: TestClient) -> TestClient:
    return TestClient(client.app, base_url=FORGED_HOST)


def _portal_reset(client: TestClient, settings: Settings) -> str:
    form = client.get(f"{PORTAL}forgot")
    portal.post_form(client, PORTAL, "forgot", form, identifier="jansen")
    return f"{PORTAL}reset?lang=nl&token="


def _portal_new_address(client: TestClient, settings: Settings) -> str:
    assert portal.log_in(client, PORTAL, "jansen", portal.PASSWORD).status_code == 303
    page = client.get(f"{PORTAL}email")
    sent = portal.post_form(
        client,
        PORTAL,
        "email",
        page,
        current_password=portal.PASSWORD,
        new_address="new@jansen.example",
    )
    assert sent.status_code == 303, sent.text
    return f"{PORTAL}email/confirm?lang=nl&token="


def _office_reset(client: TestClient, settings: Settings) -> str:
    form = client.get(f"{OFFICE}forgot")
    admin.send(client, "forgot", form, identifier="anna")
    return f"{OFFICE}reset?lang=en&token="


def _office_new_address(client: TestClient, settings: Settings) -> str:
    assert admin.log_in(client, "anna").status_code == 303
    page = client.get(f"{OFFICE}email")
    sent = admin.send(
        client, "email", page, current_password=admin.PASSWORD, new_address="anna@new.example"
    )
    assert sent.status_code == 303, sent.text
    return f"{OFFICE}email/confirm?lang=en&token="


def _office_invitation(client: TestClient, settings: Settings) -> str:
    assert admin.log_in(client, "anna").status_code == 303
    page = client.get(f"{OFFICE}users")
    fields = {"username": "els", "emailaddress": "els@warehouse.example", "language": "nl"}
    invited = admin.send(client, "users/invite", page, firstname="Els", lastname="Vos", **fields)
    assert invited.status_code == 303, invited.text
    return f"{OFFICE}reset?lang=nl&token="


def _command_line(settings: Settings, *arguments: str) -> None:
    environment = {
        **os.environ,
        "FULFILMENT_DATABASE_URL": settings.database_url,
        "FULFILMENT_SMTP_URL": str(settings.smtp_url),
        "FULFILMENT_MAIL_FROM": str(settings.mail_from),
        "FULFILMENT_PUBLIC_URL": PUBLIC_URL,
    }
    done = subprocess.run(
        [sys.executable, "-m", "fulfilment.cli", "mail", *arguments, "--account", "acme"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _customer_invitation(client: TestClient, settings: Settings) -> str:
    database: Database = client.app.state.database
    with database.engine.connect() as connection:
        [customer_id] = connection.execute(
            sa.select(fulfilment_customers.c.idfulfilment_customer)
        ).scalars()
    _command_line(settings, "invite-customer", str(customer_id))
    return f"{PORTAL}reset?lang=nl&token="


def _staff_invitation(client: TestClient, settings: Settings) -> str:
    _command_line(settings, "invite-user", "piet")
    return f"{OFFICE}reset?lang=nl&token="


Flow = Callable[[TestClient, Settings], str]
INVITATIONS = (_office_invitation, _customer_invitation, _staff_invitation)
INVITATION_LIFETIME = timedelta(days=7)
FLOWS: dict[str, Flow] = {
    "portal password reset": _portal_reset,
    "portal new address": _portal_new_address,
    "back office password reset": _office_reset,
    "back office new address": _office_new_address,
    "back office invitation": _office_invitation,
    "command line customer invitation": _customer_invitation,
    "command line staff invitation": _staff_invitation,
}


@pytest.fixture
def people(tenant: Tenant, jansen: dict[str, Any], anna: User, piet: User) -> None:
    """A customer who may log in, an administrator and a staff user, with addresses."""


def _mailed_link(client: TestClient, settings: Settings, inbox: Inbox, flow: Flow) -> str:
    """The path and query of the link `flow` had mailed, once it is checked to start with
    the public address and the page it leads to."""
    page = flow(client, settings)
    [mail] = inbox.wait_for(1, seconds=15)
    link = link_in(mail)
    assert link.startswith(PUBLIC_URL + page), link
    return link.removeprefix(PUBLIC_URL)


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("flow", FLOWS.values(), ids=FLOWS.keys())
def test_links_lead_to_the_public_address_whatever_host_was_named(
    client: TestClient, settings: Settings, inbox: Inbox, flow: Flow
) -> None:
    visitor = _visitor(client)

    path = _mailed_link(visitor, settings, inbox, flow)

    assert FORGED_HOST.removeprefix("http://") not in path
    assert visitor.get(path).status_code == 200


def _age_links(database: Database, by: timedelta) -> None:
    """Make every link as if it had been mailed `by` earlier (reckoned here: SQLite has no
    arithmetic on times)."""
    table = one_time_tokens
    with database.engine.connect() as connection:
        statement = sa.select(table.c.id, table.c.created_at, table.c.expires_at)
        rows = connection.execute(statement).all()
    with database.engine.begin() as connection:
        for token_id, created_at, expires_at in rows:
            connection.execute(
                sa.update(table)
                .where(table.c.id == token_id)
                .values(created_at=created_at - by, expires_at=expires_at - by)
            )


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("flow", FLOWS.values(), ids=FLOWS.keys())
def test_a_link_works_for_its_time_and_not_after(
    client: TestClient, settings: Settings, inbox: Inbox, database: Database, flow: Flow
) -> None:
    """An hour for a password link or a new address; an invitation, a week."""
    path = _mailed_link(client, settings, inbox, flow)
    lifetime = INVITATION_LIFETIME if flow in INVITATIONS else LIFETIME

    _age_links(database, lifetime - timedelta(minutes=1))
    assert client.get(path).status_code == 200

    _age_links(database, timedelta(minutes=2))
    gone = client.get(path)
    assert gone.status_code == 410
    assert "link" in gone.text
