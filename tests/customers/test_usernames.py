"""Usernames that look alike are one username, usernames and e-mail addresses with
invisible or control characters are refused, on both databases and in the portal's login."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from fulfilment.db import Database
from tests.factories import CUSTOMERS, Tenant, fullwidth, stored_customers
from tests.portal.helpers import log_in

from .test_rules import assert_rejected

PASSWORD = "correct horse 1"

# (stored username, a look-alike that must count as the same username)
LOOK_ALIKES = [
    ("partners", fullwidth("partners")),  # fullwidth letters
    (fullwidth("P") + "artners", "partners"),  # fullwidth capital, the other way round
    ("\u00e9mile", "e\u0301mile"),  # precomposed é, and e with a combining acute accent
    ("e\u0301mile", "\u00c9MILE"),
    ("team²", "team2"),  # a superscript digit
    ("ⅸ-team", "ix-team"),  # a Roman numeral
]
INVISIBLE = [
    "partners\u200b",  # zero-width space (Cf)
    "part\u200dners",  # zero-width joiner
    "\u202epartners",  # right-to-left override
    "partners\u00ad",  # soft hyphen
    "\ufeffpartners",  # byte order mark
    "part\u2060ners",  # word joiner
    "partners\u034f",  # combining grapheme joiner
    "partners\ufe0f",  # variation selector
    "\u3164partners",  # Hangul filler
    "part\x1b[31mners",  # a terminal escape
    "part\x7fners",  # DEL
    "part\x85ners",  # a C1 control
    "part\u2028ners",  # line separator
    "part\ue000ners",  # private use
]


@pytest.mark.parametrize(("stored", "look_alike"), LOOK_ALIKES)
def test_look_alike_usernames_are_the_same_username(
    tenant: Tenant, database: Database, stored: str, look_alike: str
) -> None:
    tenant.create_customer(name="First", username=stored)
    other = tenant.create_customer(name="Other")
    before = stored_customers(database)

    assert_rejected(tenant.post(CUSTOMERS, {"name": "Twin", "username": look_alike}), "username")
    assert_rejected(
        tenant.put(f"{CUSTOMERS}/{other['idfulfilment_customer']}", {"username": look_alike}),
        "username",
    )
    assert stored_customers(database) == before


def test_a_customer_may_change_its_username_to_a_look_alike_of_itself(tenant: Tenant) -> None:
    created = tenant.create_customer(name="Émile", username="e\u0301mile")

    answer = tenant.put(f"{CUSTOMERS}/{created['idfulfilment_customer']}", {"username": "émile"})

    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == "émile"


@pytest.mark.parametrize("username", INVISIBLE)
def test_usernames_with_invisible_or_control_characters_are_refused(
    tenant: Tenant, database: Database, username: str
) -> None:
    other = tenant.create_customer(name="Other")
    before = stored_customers(database)

    created = tenant.post(CUSTOMERS, {"name": "Hidden", "username": username})
    updated = tenant.put(f"{CUSTOMERS}/{other['idfulfilment_customer']}", {"username": username})

    for answer in (created, updated):
        assert_rejected(answer, "username")
        message = answer.json()["error_message"]
        assert "invisible" in message
        assert all(character.isprintable() for character in message)
    assert stored_customers(database) == before


def test_the_refusal_names_the_character(tenant: Tenant) -> None:
    answer = tenant.post(CUSTOMERS, {"name": "Hidden", "username": "partners\u200b"})

    assert answer.json()["error_message"] == (
        "username may not contain control or invisible characters (U+200B)."
    )


def test_a_username_that_normalises_past_the_stored_key_is_refused(tenant: Tenant) -> None:
    # U+FDFA is one character that NFKC writes as 18.
    assert_rejected(tenant.post(CUSTOMERS, {"name": "Long", "username": "\ufdfa" * 20}), "username")


@pytest.mark.parametrize(
    "address",
    [
        "info@acme.example\n",  # `$` in a pattern matches before a final newline
        "info@acme.example\r\n",
        "info\x1b[2J@acme.example",
        "info@acme.example\x00",
        "info\u200b@acme.example",
        "info@acme\u202e.example",
        "info@acme.example\x7f",
    ],
)
def test_e_mail_addresses_with_control_characters_are_refused(
    tenant: Tenant, database: Database, address: str
) -> None:
    other = tenant.create_customer(name="Other")
    before = stored_customers(database)

    created = tenant.post(CUSTOMERS, {"name": "Mail", "emailaddress": address})
    updated = tenant.put(f"{CUSTOMERS}/{other['idfulfilment_customer']}", {"emailaddress": address})

    for answer in (created, updated):
        assert_rejected(answer, "emailaddress")
        assert all(character.isprintable() for character in answer.json()["error_message"])
    assert stored_customers(database) == before


def test_ordinary_unicode_usernames_and_addresses_are_kept_as_sent(tenant: Tenant) -> None:
    created = tenant.create_customer(
        name="Zoë", username="Zoë de Vries", emailaddress="zoë@bloemen.example"
    )

    assert created["username"] == "Zoë de Vries"
    assert created["emailaddress"] == "zoë@bloemen.example"


@pytest.mark.parametrize(("stored", "typed"), LOOK_ALIKES)
def test_the_portal_finds_a_username_however_it_is_typed(
    client: TestClient, tenant: Tenant, stored: str, typed: str
) -> None:
    """A phone or another operating system may send "é" decomposed; it is the same name."""
    tenant.create_customer(name="Portal", can_login=True, username=stored, password=PASSWORD)

    answer = log_in(client, "/portal/acme/", typed, PASSWORD)

    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/portal/acme/"
