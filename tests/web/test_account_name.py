"""The account's name is in every mail's From and Subject: the back office refuses a name
no header can carry as plain text when it is typed, in words, and the account's mails keep
arriving with the name it has."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.staff.schemas import User
from fulfilment.tables import accounts, audit_events
from tests.admin import helpers as admin
from tests.mail.smtp import Inbox
from tests.portal.helpers import shown_texts

OFFICE = "/admin/acme/"
LINE_BREAKS = "The name may not contain line breaks, tabs or other control or invisible characters."
ENCODED = "The name may not contain =? (mail programs read it as encoded text)."


def _stored(database: Database) -> tuple[str, int]:
    with database.engine.connect() as connection:
        name = connection.execute(sa.select(accounts.c.name)).scalar_one()
        events = connection.execute(sa.select(sa.func.count()).select_from(audit_events))
        return name, events.scalar_one()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Acme\r\nBcc: evil@x.test", LINE_BREAKS),
        ("Acme\nBcc: evil@x.test", LINE_BREAKS),
        ("Acme\u2028Bcc: evil@x.test", LINE_BREAKS),
        ("Acme\x85BV", LINE_BREAKS),
        ("Acme\u200bBV", LINE_BREAKS),
        ("=?utf-8?q?x=0ABcc:_evil@x.test?=", ENCODED),
    ],
)
def test_a_name_no_header_can_carry_is_refused_where_it_is_typed(
    client: TestClient, database: Database, anna: User, inbox: Inbox, name: str, words: str
) -> None:
    assert admin.log_in(client, "anna").status_code == 303
    page = client.get(f"{OFFICE}settings")
    before = _stored(database)

    refused = admin.send(client, "settings", page, name=name, timezone="Europe/Amsterdam")

    assert refused.status_code == 400
    assert words in shown_texts(refused.text)
    assert 'aria-invalid="true"' in refused.text
    assert "settings-saved" not in refused.text
    assert _stored(database) == before

    # The account's mails carry the name it kept.
    client.cookies.clear()
    form = client.get(f"{OFFICE}forgot")
    assert admin.send(client, "forgot", form, identifier="anna").status_code == 303
    [mail] = inbox.wait_for(1, seconds=15)
    assert inbox.messages[0][0] == ["anna@warehouse.example"]
    assert mail["From"].addresses[0].display_name == "Acme BV"
    assert "Bcc" not in mail


def test_a_plain_name_with_any_letters_and_signs_is_saved_and_arrives_as_typed(
    client: TestClient, database: Database, anna: User, inbox: Inbox
) -> None:
    name = 'Zoë & Söhne, "Logistik" <BV>'
    assert admin.log_in(client, "anna").status_code == 303
    page = client.get(f"{OFFICE}settings")

    saved = admin.send(client, "settings", page, name=f"  {name} ", timezone="Europe/Amsterdam")

    assert saved.status_code == 303
    assert _stored(database)[0] == name
    client.cookies.clear()
    form = client.get(f"{OFFICE}forgot")
    assert admin.send(client, "forgot", form, identifier="anna").status_code == 303
    [mail] = inbox.wait_for(1, seconds=15)
    assert mail["From"].addresses[0].display_name == name
    assert mail["Subject"] == f"Choose a new password for the back office of {name}"
