"""Mails as jobs of the engine, against a real SMTP server: delivery, retries while the
server is away, TLS, the log without a server, leases between processes, retention."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from msgspec.structs import replace
from prometheus_client import REGISTRY

from fulfilment.accounts.service import Account
from fulfilment.db import Database
from fulfilment.jobs.engine import Engine, now
from fulfilment.mail import outbox, queries
from fulfilment.mail.handler import MailSending
from fulfilment.mail.messages import PASSWORD_RESET, MailWriter
from fulfilment.settings import Settings, SettingsError
from fulfilment.tables import mail_outbox
from tests.factories import wait_until
from tests.servers import Certificate, free_port

from .smtp import Inbox, html_of, link_in, smtp_server, text_of

LINK = "https://portal.example.com/portal/acme/reset?token=abc"
writer = MailWriter()


def _smtp(settings: Settings, url: str, **more: Any) -> Settings:
    return replace(
        settings,
        smtp_url=url,
        mail_from="noreply@warehouse.example",
        public_url="https://portal.example.com",
        **more,
    )


def MailWorker(settings: Settings, database: Database, **handler: Any) -> Engine:
    """An engine that only sends mails, with `settings`."""
    return Engine(database, [MailSending(settings, **handler)])


def _enqueue(database: Database, account: Account, recipient: str, language: str = "en") -> None:
    mail = writer.write(PASSWORD_RESET, language, recipient, account.name, LINK, username="jan")
    database.write_sync(lambda connection: outbox.enqueue(connection, account.id, mail))


def _rows(database: Database) -> list[Any]:
    with database.engine.connect() as connection:
        return list(connection.execute(sa.select(mail_outbox).order_by(mail_outbox.c.id)))


def _metric(name: str, kind: str = "password-reset") -> float:
    return REGISTRY.get_sample_value(name, {"kind": kind}) or 0.0


@pytest.mark.pgbouncer
def test_a_mail_arrives_with_both_parts_from_the_account(
    settings: Settings, database: Database, account: Account, inbox: Inbox, smtp_port: int
) -> None:
    worker = MailWorker(_smtp(settings, f"smtp://127.0.0.1:{smtp_port}"), database)
    _enqueue(database, account, "jan@example.com", "nl")
    sent_before = _metric("fulfilment_mail_sent_total")

    assert asyncio.run(worker.run_due()) == 1

    [message] = inbox.wait_for(1)
    assert inbox.messages[0][0] == ["jan@example.com"]
    assert message["To"] == "jan@example.com"
    assert message["From"].addresses[0].display_name == "Acme BV"
    assert message["From"].addresses[0].addr_spec == "noreply@warehouse.example"
    assert message["Subject"] == "Kies een nieuw wachtwoord voor Acme BV"
    assert "Iemand heeft een nieuw wachtwoord aangevraagd voor het account jan" in text_of(message)
    assert link_in(message) == LINK
    html = html_of(message)
    assert f'href="{LINK}"' in html
    assert "<img" not in html
    assert "url(" not in html
    assert _metric("fulfilment_mail_sent_total") == sent_before + 1
    # Sent: the row stays, the bodies (and the link in them) do not.
    [row] = _rows(database)
    assert row.state == "sent"
    assert row.finished_at is not None
    assert row.claimed_by is None
    assert row.body_text is None
    assert row.body_html is None
    assert asyncio.run(worker.run_due()) == 0


def test_stopping_while_a_mail_is_sent_lets_it_be_sent_and_recorded(
    settings: Settings, database: Database, account: Account, inbox: Inbox, smtp_port: int
) -> None:
    # Recorded, not left claimed to be sent again once its lease ends.
    worker = MailWorker(_smtp(settings, f"smtp://127.0.0.1:{smtp_port}"), database)
    inbox.answer_delay = 0.5
    _enqueue(database, account, "jan@example.com")

    async def stop_during_the_send() -> None:
        worker.start()
        await asyncio.get_running_loop().run_in_executor(None, inbox.wait_for, 1)
        await worker.stop()

    asyncio.run(stop_during_the_send())

    [row] = _rows(database)
    assert row.state == "sent"
    assert row.claimed_by is None
    assert row.attempts == 1


def test_a_mail_waits_while_the_server_is_down_and_arrives_once_it_is_back(
    settings: Settings,
    database: Database,
    account: Account,
    inbox: Inbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    worker = MailWorker(
        _smtp(settings, f"smtp://127.0.0.1:{port}"),
        database,
        retry_schedule=(0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2),
    )
    worker.poll_seconds = 0.1
    failures_before = _metric("fulfilment_mail_failures_total")
    _enqueue(database, account, "jan@example.com")
    stop = threading.Event()

    async def run() -> None:
        worker.start()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await worker.stop()

    thread = threading.Thread(target=asyncio.run, args=(run(),))
    with caplog.at_level(logging.WARNING, logger="fulfilment.mail"):
        thread.start()
        try:
            wait_until(
                lambda: _metric("fulfilment_mail_failures_total") >= failures_before + 2,
                what="two failed attempts",
            )
            [row] = _rows(database)
            assert row.state == "pending"
            assert "SMTPConnect" in row.last_error
            with smtp_server(inbox, port):
                [message] = inbox.wait_for(1)
        finally:
            stop.set()
            thread.join()
    assert link_in(message) == LINK
    [row] = _rows(database)
    assert row.state == "sent"
    assert row.attempts >= 3
    failed = [record.getMessage() for record in caplog.records if "not sent" in record.getMessage()]
    assert failed, "the failure is in the log"
    assert not any("token=" in record.getMessage() for record in caplog.records)


def test_implicit_tls_with_a_trusted_certificate(
    settings: Settings,
    database: Database,
    account: Account,
    inbox: Inbox,
    certificate: Certificate,
) -> None:
    with smtp_server(inbox, mode="tls", certificate=certificate) as port:
        url = f"smtps://127.0.0.1:{port}"
        untrusted = MailWorker(_smtp(settings, url), database, retry_schedule=(0,))
        _enqueue(database, account, "first@example.com")
        # The system's authorities do not know the certificate: the mail is not sent.
        asyncio.run(untrusted.run_due())
        assert "certificate verify failed" in _rows(database)[0].last_error
        assert inbox.messages == []

        trusted = MailWorker(_smtp(settings, url, smtp_ca_file=str(certificate.cert)), database)
        asyncio.run(trusted.run_due())
        assert asyncio.run(trusted.run_due()) == 0
        [message] = inbox.wait_for(1)
    assert message["To"] == "first@example.com"


def test_starttls_with_a_login(
    settings: Settings,
    database: Database,
    account: Account,
    inbox: Inbox,
    certificate: Certificate,
) -> None:
    with smtp_server(inbox, mode="starttls", certificate=certificate) as port:
        url = f"smtp://mailer:mail%20secret@127.0.0.1:{port}?starttls=true"
        worker = MailWorker(_smtp(settings, url, smtp_ca_file=str(certificate.cert)), database)
        _enqueue(database, account, "jan@example.com")
        asyncio.run(worker.run_due())
        [message] = inbox.wait_for(1)
    assert inbox.logins == ["mailer"]
    assert link_in(message) == LINK


def test_without_a_server_the_mail_goes_to_the_log(
    settings: Settings,
    database: Database,
    account: Account,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = MailWorker(settings, database)
    _enqueue(database, account, "jan@example.com")
    with caplog.at_level(logging.WARNING, logger="fulfilment.mail"):
        asyncio.run(worker.run_due())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "jan@example.com" in logged
    assert LINK in logged
    assert _rows(database)[0].state == "sent"


def test_a_mail_is_abandoned_after_the_last_retry(
    settings: Settings, database: Database, account: Account
) -> None:
    worker = MailWorker(
        _smtp(settings, f"smtp://127.0.0.1:{free_port()}"), database, retry_schedule=(0,)
    )
    abandoned_before = _metric("fulfilment_mail_abandoned_total")
    _enqueue(database, account, "jan@example.com")
    asyncio.run(worker.run_due())
    asyncio.run(worker.run_due())
    [row] = _rows(database)
    assert row.state == "failed"
    assert row.finished_at is not None
    assert row.attempts == 2
    assert row.body_text is None
    assert _metric("fulfilment_mail_abandoned_total") == abandoned_before + 1


@pytest.mark.pgbouncer
def test_workers_share_the_outbox_without_sending_a_mail_twice(
    settings: Settings, database: Database, account: Account, inbox: Inbox, smtp_port: int
) -> None:
    configured = _smtp(settings, f"smtp://127.0.0.1:{smtp_port}")
    for number in range(25):
        _enqueue(database, account, f"customer{number}@example.com")

    async def together() -> None:
        workers = [MailWorker(configured, database) for _ in range(3)]
        while any(await asyncio.gather(*(worker.run_due() for worker in workers))):
            pass

    asyncio.run(together())
    # Every send was awaited, and the SMTP server keeps a mail before it answers 250: what
    # arrived is all that ever will.
    recipients = sorted(recipient for recipients, _ in inbox.messages for recipient in recipients)
    assert recipients == sorted(f"customer{number}@example.com" for number in range(25))
    assert {(row.state, row.attempts) for row in _rows(database)} == {("sent", 1)}


def test_a_lease_that_ran_out_hands_the_mail_to_another_worker(
    settings: Settings, database: Database, account: Account, inbox: Inbox, smtp_port: int
) -> None:
    _enqueue(database, account, "jan@example.com")
    moment = now()
    # A process claims the mail and dies before it can send it; its lease ends at once.
    claim = {
        "now": moment,
        "until": moment,
        "claim": "dead:1",
        "per_account": 100,
        "limit": 10,
    }
    claimed = database.write_sync(lambda c: c.all(queries.QUEUE.claim, claim))
    assert len(claimed) == 1
    worker = MailWorker(_smtp(settings, f"smtp://127.0.0.1:{smtp_port}"), database)
    assert asyncio.run(worker.run_due()) == 1
    inbox.wait_for(1)
    # What the dead process would record late changes nothing.
    late = {
        "id": claimed[0][0],
        "claim": "dead:1",
        "state": "pending",
        "next_attempt_at": moment,
        "finished_at": None,
    }
    assert database.write_sync(lambda c: c.execute(queries.QUEUE.finish, late)) == 0
    [row] = _rows(database)
    assert row.state == "sent"
    assert row.attempts == 1


def test_settings_for_mail(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="FULFILMENT_MAIL_FROM and FULFILMENT_PUBLIC_URL"):
        replace(settings, smtp_url="smtp://localhost:25").checked()
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"FULFILMENT_SMTP_URL": "http://user:hunter2@mail"})
    assert "FULFILMENT_SMTP_URL must be" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    with pytest.raises(SettingsError, match="FULFILMENT_MAIL_LOG_RETENTION_DAYS"):
        Settings.from_env({"FULFILMENT_MAIL_LOG_RETENTION_DAYS": "0"})
    assert Settings().mail_log_retention_days == 30
    with pytest.raises(SettingsError, match="FULFILMENT_MAIL_LIMIT_PER_RECIPIENT"):
        Settings.from_env({"FULFILMENT_MAIL_LIMIT_PER_RECIPIENT": "often"})
    good = Settings.from_env(
        {
            "FULFILMENT_SMTP_URL": "smtps://user:pass@mail.example.com:465",
            "FULFILMENT_MAIL_FROM": "noreply@example.com",
            "FULFILMENT_PUBLIC_URL": "https://portal.example.com",
        }
    )
    assert good.smtp_url == "smtps://user:pass@mail.example.com:465"
