"""Links mailed to a person, on both sites: a change of credentials voids every pending
link; an invitation works for days and never turns a login back on; each use is audited."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.identity import links
from fulfilment.identity.kinds import CUSTOMER, STAFF
from fulfilment.mail.mailer import Mailer
from fulfilment.settings import Settings
from fulfilment.tables import fulfilment_customers, one_time_tokens, staff_users
from tests.mail.smtp import Inbox
from tests.mail.smtp import link_in as full_link

from .conftest import PUBLIC_URL
from .helpers import NEW_PASSWORD, PASSWORD, Site


def link_in(mail: EmailMessage) -> str:
    """The mail's link, as a path of the test client's host (the link itself starts with
    FULFILMENT_PUBLIC_URL, checked where it matters)."""
    return full_link(mail).removeprefix(PUBLIC_URL)


def _set_password(site: Site, link: str, password: str, again: str | None = None):  # type: ignore[no-untyped-def]
    form = site.client.get(link)
    assert form.status_code == 200, form.text
    return site.send(
        "reset",
        form,
        token=link.split("token=")[1],
        new_password=password,
        new_password_again=password if again is None else again,
    )


def _ask_email_change(site: Site, address: str):  # type: ignore[no-untyped-def]
    page = site.client.get(f"{site.base}email")
    assert page.status_code == 200, page.text
    return site.send("email", page, current_password=PASSWORD, new_address=address)


def test_a_password_reset_voids_pending_email_change_and_reset_links(
    site: Site, inbox: Inbox
) -> None:
    assert site.log_in().status_code == 303
    asked = _ask_email_change(site, "thief@elsewhere.example")
    # POST, redirect, GET.
    assert asked.headers["location"] == f"{site.base}email?sent=1"
    [change] = inbox.wait_for(1)
    assert site.forgot().headers["location"].endswith("sent=1")
    assert site.forgot().headers["location"].endswith("sent=1")
    _, first, second = inbox.wait_for(3)
    assert _set_password(site, link_in(first), NEW_PASSWORD).status_code == 303
    # The other reset link and the e-mail change asked before are void now.
    assert site.client.get(link_in(second)).status_code == 410
    assert site.client.get(link_in(change)).status_code == 410
    expected = "set_password" if site.name == "admin" else 'update {"password":"changed"}'
    assert site.audit_actions()[-1] == expected
    assert site.log_in(NEW_PASSWORD).status_code == 303


def test_an_e_mail_change_ends_sessions_and_is_audited(site: Site, inbox: Inbox) -> None:
    elsewhere = TestClient(site.client.app)
    assert site.log_in(client=elsewhere).status_code == 303
    assert site.log_in().status_code == 303
    _ask_email_change(site, "new@elsewhere.example")
    [change] = inbox.wait_for(1)
    opened = site.client.get(link_in(change))
    confirmed = site.send("email/confirm", opened, token=link_in(change).split("token=")[1])
    assert confirmed.status_code == 303
    assert "notice=email-changed" in confirmed.headers["location"]
    # The session opened elsewhere has ended too.
    ended = elsewhere.get(f"{site.base}email", follow_redirects=False)
    assert ended.headers["location"] == f"{site.base}login?notice=ended"
    change_of_customer = '{"from":"jansen@customer.example","to":"new@elsewhere.example"}'
    expected = (
        "change_email"
        if site.name == "admin"
        else f'update {{"emailaddress":{change_of_customer}}}'
    )
    assert site.audit_actions()[-1] == expected
    # The old address is told.
    [_, told] = inbox.wait_for(2)
    assert told["To"] == site.email


def test_the_reset_form_reports_every_error_at_once(site: Site, inbox: Inbox) -> None:
    site.forgot()
    [mail] = inbox.wait_for(1)
    refused = _set_password(site, link_in(mail), "short", "different")
    assert refused.status_code == 400
    assert '<a href="#new_password">' in refused.text
    assert '<a href="#new_password_again">' in refused.text
    assert "<title>Error: " in refused.text


def test_switching_login_off_voids_an_open_invitation(
    site: Site, inbox: Inbox, settings: Settings
) -> None:
    kind = CUSTOMER if site.name == "portal" else STAFF
    mailer = Mailer(settings)
    account = site.tenant.account
    lifetime = links.invitation_lifetime(settings)
    site.database.write_sync(
        lambda c: links.invite(c, mailer, kind, account, site.person_id, lifetime)
    )
    [invitation] = inbox.wait_for(1)
    site.switch_off()
    assert site.client.get(link_in(invitation)).status_code == 410
    table = fulfilment_customers if site.name == "portal" else staff_users
    allowed = table.c.can_login if site.name == "portal" else table.c.active
    with site.database.engine.connect() as connection:
        assert connection.execute(sa.select(allowed)).scalar_one() is False
    assert site.log_in().status_code == 401


def test_an_invitation_works_for_days_and_its_acceptance_is_audited(
    site: Site, inbox: Inbox, settings: Settings
) -> None:
    kind = CUSTOMER if site.name == "portal" else STAFF
    mailer = Mailer(settings)
    account = site.tenant.account
    lifetime = links.invitation_lifetime(settings)
    assert lifetime == timedelta(days=7)
    site.database.write_sync(
        lambda c: links.invite(c, mailer, kind, account, site.person_id, lifetime)
    )
    [invitation] = inbox.wait_for(1)
    assert full_link(invitation).startswith(f"{PUBLIC_URL}{site.base}reset?")
    with site.database.engine.connect() as connection:
        created, expires = connection.execute(
            sa.select(one_time_tokens.c.created_at, one_time_tokens.c.expires_at)
        ).one()
    assert expires - created == timedelta(days=7)
    assert _set_password(site, link_in(invitation), NEW_PASSWORD).status_code == 303
    expected = "accept_invitation" if site.name == "admin" else 'update {"password":"changed"}'
    assert site.audit_actions()[-1] == expected
    assert site.log_in(NEW_PASSWORD).status_code == 303
