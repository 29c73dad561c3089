"""What a mail's headers and envelope hold, read from a real SMTP server: names a person
typed never add or change a header, and the envelope names exactly the one recipient."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from msgspec.structs import replace

from fulfilment.accounts.service import Account
from fulfilment.db import Database
from fulfilment.jobs.engine import Engine
from fulfilment.mail import outbox, smtp
from fulfilment.mail.handler import MailSending
from fulfilment.mail.messages import PASSWORD_RESET, MailWriter
from fulfilment.mail.smtp import Outgoing, compose
from fulfilment.settings import Settings
from fulfilment.tables import accounts, mail_outbox

from .smtp import Inbox, link_in, text_of

LINK = "https://portal.example.com/portal/acme/reset?token=abc"
SENDER = "noreply@warehouse.example"
# Every header a mail of the service carries, once each.
HEADERS = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
]
writer = MailWriter()


def _send(
    settings: Settings, database: Database, account: Account, port: int, recipient: str
) -> None:
    """Write a reset mail from `account` (its name as stored) to `recipient` and let an
    engine that only sends mails attempt it once."""
    mail = writer.write(PASSWORD_RESET, "en", recipient, account.name, LINK, username="jan")
    database.write_sync(lambda connection: outbox.enqueue(connection, account.id, mail))
    smtp = replace(
        settings,
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from=SENDER,
        public_url="https://portal.example.com",
    )
    assert asyncio.run(Engine(database, [MailSending(smtp)]).run_due()) == 1


def _named(database: Database, account: Account, name: str) -> Account:
    """`account` with `name` stored as it is, the way a name saved before the service
    checked names is."""
    with database.engine.begin() as connection:
        connection.execute(sa.update(accounts).where(accounts.c.id == account.id).values(name=name))
    return Account(account.id, account.subdomain, name, account.timezone)


def _header_block(message: EmailMessage) -> list[str]:
    """The names of the header lines as they arrived (a folded line's continuation is not
    a header)."""
    raw = message.as_bytes(policy=email.policy.SMTP).split(b"\r\n\r\n", 1)[0].decode()
    return [line.split(":", 1)[0] for line in raw.split("\r\n") if not line[:1].isspace()]


@pytest.mark.parametrize(
    "name",
    [
        "=?utf-8?q?x=0ABcc:_evil@x.test?=",
        "Acme =?utf-8?b?eApCY2M6IGV2aWxAeC50ZXN0?= BV",
        '"=?utf-8?q?x=0D=0ABcc:_evil@x.test?="',
    ],
)
def test_an_encoded_word_in_the_account_name_adds_no_header(
    settings: Settings,
    database: Database,
    account: Account,
    inbox: Inbox,
    smtp_port: int,
    name: str,
) -> None:
    account = _named(database, account, name)

    _send(settings, database, account, smtp_port, "jan@example.com")

    [message] = inbox.wait_for(1)
    [(envelope, _)] = inbox.messages
    assert envelope == ["jan@example.com"]
    assert _header_block(message) == HEADERS
    assert "Bcc" not in message
    [sender] = message["From"].addresses
    assert sender.addr_spec == SENDER
    # Shown as the text it is, with the encoded word broken up rather than decoded.
    assert sender.display_name == name.replace("=?", "= ?")
    assert "\n" not in message["Subject"]
    assert name.replace("=?", "= ?") in message["Subject"]
    assert link_in(message) == LINK


@pytest.mark.parametrize(
    "name",
    [
        "Acme\r\nBcc: evil@x.test",
        "Acme\nBcc: evil@x.test",
        "Acme\u2028Bcc: evil@x.test",
        "Acme\x85BV",
    ],
)
def test_a_line_break_stored_in_the_account_name_neither_adds_a_header_nor_stops_mail(
    settings: Settings,
    database: Database,
    account: Account,
    inbox: Inbox,
    smtp_port: int,
    name: str,
) -> None:
    account = _named(database, account, name)

    _send(settings, database, account, smtp_port, "jan@example.com")

    [message] = inbox.wait_for(1)
    assert inbox.messages[0][0] == ["jan@example.com"]
    assert _header_block(message) == HEADERS
    [sender] = message["From"].addresses
    spaced = "".join(" " if c in "\r\n\u2028\x85" else c for c in name)
    assert sender.display_name == spaced
    with database.engine.connect() as connection:
        state, error = connection.execute(
            sa.select(mail_outbox.c.state, mail_outbox.c.last_error)
        ).one()
    assert (state, error) == ("sent", None)


@pytest.mark.parametrize(
    "name", ['Zoë & Co, "BV" <boss@x.test>', "Acme BV", "Müller; Söhne: (Logistik)"]
)
def test_a_name_with_specials_arrives_as_it_was_typed(
    settings: Settings,
    database: Database,
    account: Account,
    inbox: Inbox,
    smtp_port: int,
    name: str,
) -> None:
    account = _named(database, account, name)

    _send(settings, database, account, smtp_port, "jan@example.com")

    [message] = inbox.wait_for(1)
    assert inbox.messages[0][0] == ["jan@example.com"]
    assert _header_block(message) == HEADERS
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (name, SENDER)
    assert [address.addr_spec for address in message["To"].addresses] == ["jan@example.com"]
    assert message["Subject"] == f"Choose a new password for {name}"
    assert f"at {name}." in text_of(message)


@pytest.mark.parametrize(
    "recipient",
    [
        "root,victim@acme.test",
        "a@b.test, victim@c.test",
        "team: victim@c.test;",
        "A <victim@c.test>",
    ],
)
def test_a_recipient_of_more_than_one_mailbox_is_never_mailed(
    settings: Settings,
    database: Database,
    account: Account,
    inbox: Inbox,
    smtp_port: int,
    recipient: str,
) -> None:
    # Kept before the service checked addresses this way: the SMTP server is never asked
    # to deliver it, to one mailbox or to several.
    _send(settings, database, account, smtp_port, recipient)

    assert inbox.messages == []
    with database.engine.connect() as connection:
        state, error = connection.execute(
            sa.select(mail_outbox.c.state, mail_outbox.c.last_error)
        ).one()
    assert state == "pending"
    assert error == "the mail cannot be composed: ValueError"


def test_the_envelope_names_the_recipient_whatever_the_headers_say(
    settings: Settings, inbox: Inbox, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Headers that name other people than the mail's one recipient: the SMTP server is
    # told of the recipient alone, so only the recipient's mailbox receives it.
    def with_more_headers(mail: Outgoing, sender: str) -> EmailMessage:
        message = compose(mail, sender)
        del message["To"]
        message["To"] = "jan@example.com, victim@x.test"
        message["Cc"] = "other@x.test"
        message["Bcc"] = "hidden@x.test"
        return message

    monkeypatch.setattr(smtp, "compose", with_more_headers)
    sender = smtp.Sender(
        replace(
            settings,
            smtp_url=f"smtp://127.0.0.1:{smtp_port}",
            mail_from=SENDER,
            public_url="https://portal.example.com",
        )
    )

    asyncio.run(sender.send(Outgoing("jan@example.com", "Acme", "Hi", "text", "<p>text</p>")))

    [message] = inbox.wait_for(1)
    assert inbox.messages[0][0] == ["jan@example.com"]
    assert message["Cc"] == "other@x.test"
