"""An e-mail address is one mailbox wherever a person types one on either site: a list, a
group, a display name or a line break is refused with the page's own words, nothing is
stored and no mail is kept to be sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.staff.schemas import User
from fulfilment.tables import fulfilment_customers, mail_outbox, staff_users
from tests.admin import helpers as admin
from tests.factories import Tenant
from tests.portal import helpers as portal

PORTAL = "/portal/acme/"
OFFICE = "/admin/acme/"
# Each of these took one address for two mailboxes, or a name and a mailbox.
NOT_ONE_MAILBOX = [
    "root,victim@acme.test",
    "a@b.test, victim@c.test",
    "team: victim@c.test;",
    "Anna <victim@c.test>",
    '"victim@c.test"@acme.test',
    "anna@acme.test\r\nBcc: victim@c.test",
]

Attempt = Callable[[TestClient, str], httpx.Response]


def _portal_new_address(client: TestClient) -> Attempt:
    assert portal.log_in(client, PORTAL, "jansen", portal.PASSWORD).status_code == 303
    page = client.get(f"{PORTAL}email")

    def attempt(client: TestClient, address: str) -> httpx.Response:
        return portal.post_form(
            client, PORTAL, "email", page, current_password=portal.PASSWORD, new_address=address
        )

    return attempt


def _office_new_address(client: TestClient) -> Attempt:
    assert admin.log_in(client, "anna").status_code == 303
    page = client.get(f"{OFFICE}email")

    def attempt(client: TestClient, address: str) -> httpx.Response:
        return admin.send(
            client, "email", page, current_password=admin.PASSWORD, new_address=address
        )

    return attempt


def _office_invitation(client: TestClient) -> Attempt:
    assert admin.log_in(client, "anna").status_code == 303
    page = client.get(f"{OFFICE}users")
    fields = {"username": "els", "language": "nl", "firstname": "Els", "lastname": "Vos"}

    def attempt(client: TestClient, address: str) -> httpx.Response:
        return admin.send(client, "users/invite", page, emailaddress=address, **fields)

    return attempt


def _office_customer(client: TestClient) -> Attempt:
    assert admin.log_in(client, "anna").status_code == 303
    page = client.get(f"{OFFICE}customers/new")

    def attempt(client: TestClient, address: str) -> httpx.Response:
        fields = {"name": "Tulp", "username": "tulp", "language": "en"}
        return admin.send(client, "customers/new", page, emailaddress=address, **fields)

    return attempt


# Each place a person types an address, with the words its page answers a bad one with.
PLACES: dict[str, tuple[Callable[[TestClient], Attempt], str]] = {
    "portal new address": (_portal_new_address, "Dit lijkt geen e-mailadres."),
    "back office new address": (_office_new_address, "This does not look like an e-mail address."),
    "back office invitation": (
        _office_invitation,
        "Enter an e-mail address such as name@example.com.",
    ),
    "back office customer": (
        _office_customer,
        "Enter an e-mail address such as name@example.com.",
    ),
}


def _stored(database: Database) -> tuple[list[Any], ...]:
    with database.engine.connect() as connection:
        return (
            list(connection.execute(sa.select(fulfilment_customers.c.emailaddress))),
            list(connection.execute(sa.select(staff_users.c.username, staff_users.c.emailaddress))),
            list(connection.execute(sa.select(mail_outbox.c.recipient))),
        )


@pytest.mark.parametrize("place", PLACES.values(), ids=PLACES.keys())
def test_an_address_of_more_than_one_mailbox_is_refused_with_a_clear_page(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    jansen: dict[str, Any],
    anna: User,
    place: tuple[Callable[[TestClient], Attempt], str],
) -> None:
    opened, words = place
    attempt = opened(client)
    before = _stored(database)

    for address in NOT_ONE_MAILBOX:
        refused = attempt(client, address)
        assert refused.status_code == 400, (address, refused.text)
        assert words in refused.text, address
        assert 'aria-invalid="true"' in refused.text

    assert _stored(database) == before
    assert before[2] == []
    # The same form takes one mailbox.
    assert attempt(client, "els@acme.test").status_code in {200, 303}
    assert _stored(database) != before
