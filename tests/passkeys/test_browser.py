"""Passkeys in a real browser: Debian's chromium with a virtual authenticator, against
`fulfilment serve` on both backends. A portal customer and a staff user each register a
passkey, log out, and log in again with it without typing anything, on the account's own
host and on the shared host; a replayed answer and a copied authenticator are refused. A
customer whose portal requires a second factor, and a staff user whose open session meets
a new requirement, register a passkey on the set-up page instead of the authenticator app."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pyotp
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Request, expect

from fulfilment.db import Database
from fulfilment.tables import account_events as events
from fulfilment.tables import accounts, passkeys
from tests.admin.conftest import make_user
from tests.admin.helpers import PASSWORD as STAFF_PASSWORD
from tests.factories import Tenant
from tests.portal.helpers import PASSWORD, untranslated

from .harness import RELYING_PARTY, SHARED_HOST, at, new_context, own_host

REFUSED = "The passkey was not accepted. Please try again."
USE_PASSKEY = "This account requires two-step verification: log in with your passkey."


def _events(database: Database, subject: str) -> list[tuple[Any, ...]]:
    statement = (
        sa.select(events.c.subject_id, events.c.action, events.c.actor_type, events.c.changes)
        .where(events.c.subject == subject, events.c.action.like("passkey_%"))
        .order_by(events.c.id)
    )
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def _sign_count(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(sa.select(passkeys.c.sign_count)).scalar_one())


def _passkey_login(page: Page) -> Request:
    """Click the passkey button and let the authenticator answer; the form's POST."""
    with page.expect_request(
        lambda request: request.method == "POST" and request.url.endswith("/passkey/login")
    ) as posted:
        page.get_by_role("button", name="Log in with a passkey").click()
    return posted.value


def _replay(request: Request, server: str, host: str) -> httpx.Response:
    """Send the same answer again, from the same session (its cookie and form token)."""
    headers = request.all_headers()
    return httpx.post(
        request.url.replace(host, "127.0.0.1"),
        content=request.post_data_buffer,
        headers={
            "host": host + ":" + server.rsplit(":", 1)[1],
            "cookie": headers["cookie"],
            "content-type": headers["content-type"],
        },
    )


def _add_passkey(page: Page, name: str) -> None:
    expect(page.get_by_text("You have no passkeys.")).to_be_visible()
    page.get_by_label("Name of the new passkey").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status")).to_have_text("The passkey has been added.")
    expect(page.locator(".passkeys li")).to_contain_text(name)
    expect(page.locator(".passkeys li")).to_contain_text("never used")


def test_a_customer_logs_in_with_a_passkey_on_both_hosts(
    server: str, tenant: Tenant, browser: Browser, database: Database
) -> None:
    customer = tenant.create_customer(
        name="Jansen Tuinmeubelen", username="jansen", can_login=True, password=PASSWORD,
        language="en",
    )  # fmt: skip
    own = at(server, own_host()) + "/portal/"
    shared = at(server, SHARED_HOST) + "/portal/acme/"
    welcome = "Welcome, Jansen Tuinmeubelen"
    context, page, authenticator = new_context(browser, locale="en-GB")
    try:
        # A password login on the account's own host; the page offers passkeys.
        answer = page.goto(own + "login")
        assert answer is not None
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "connect-src 'self'" in policy
        assert "unsafe" not in policy
        page.get_by_label("Username").fill("jansen")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(welcome)

        page.get_by_role("link", name="Your passkeys").click()
        _add_passkey(page, "Work laptop")
        data = [tenant.account.name, "Jansen Tuinmeubelen", "jansen", "Work laptop"]
        assert untranslated(page.content(), "en", data) == []
        (credential,) = authenticator.credentials()
        assert credential["isResidentCredential"] is True
        assert credential["rpId"] == RELYING_PARTY

        # The portal now requires a second factor; the customer has no TOTP. Log out, then
        # log in with the passkey alone, nothing typed: it is both factors, so no code and
        # no set-up is asked for.
        _require_second_factor(database, tenant.account.id, "require_portal_2fa")
        page.goto(own)
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("status")).to_have_text("You have been logged out.")
        _passkey_login(page)
        expect(page.get_by_role("heading", level=1)).to_have_text(welcome)
        page.get_by_role("link", name="Your passkeys").click()
        expect(page.locator(".passkeys li")).to_contain_text("last used")

        # The same passkey on the shared host, in a session of that host.
        page.goto(shared + "login")
        used = _passkey_login(page)
        expect(page.get_by_role("heading", level=1)).to_have_text(welcome)

        # The same answer again, from the same session: its challenge is used up.
        replayed = _replay(used, server, SHARED_HOST)
        assert replayed.status_code == 401
        assert REFUSED in replayed.text
        assert "set-cookie" not in replayed.headers or "customer" not in replayed.text

        # A copy of the authenticator whose counter is behind the service's.
        page.goto(shared + "login")
        page.get_by_role("button", name="Log out").click()
        count = _sign_count(database)
        assert count == authenticator.credentials()[0]["signCount"] > 0
        authenticator.clone(sign_count=count - 1)
        _passkey_login(page)
        expect(page.get_by_role("alert")).to_have_text(REFUSED)
        assert _sign_count(database) == count

        customer_id = customer["idfulfilment_customer"]
        assert [row[:3] for row in _events(database, "customer")] == [
            (customer_id, "passkey_register", "portal"),
            (customer_id, "passkey_login", "portal"),
            (customer_id, "passkey_login", "portal"),
        ]
    finally:
        context.close()


def _require_second_factor(database: Database, account_id: int, column: str) -> None:
    """The account requires a second factor of every customer or staff user (`column`)."""
    change = sa.update(accounts).where(accounts.c.id == account_id).values({column: True})
    database.write_sync(lambda c: c.execute(change, {}))


def test_a_staff_user_logs_in_with_a_passkey_instead_of_both_factors(
    server: str, tenant: Tenant, browser: Browser, database: Database
) -> None:
    anna = make_user(database, tenant, "anna", firstname="Anna", lastname="Smit", language="en")
    own = at(server, own_host()) + "/admin/"
    shared = at(server, SHARED_HOST) + "/admin/acme/"
    context, page, authenticator = new_context(browser, locale="en-GB")
    try:
        page.goto(shared + "login")
        page.get_by_label("Username", exact=True).fill("anna")
        page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")

        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Your passkeys").click()
        _add_passkey(page, "Phone")
        data = [tenant.account.name, "Anna Smit", "anna", "Phone"]
        assert untranslated(page.content(), "en", data) == []
        assert authenticator.credentials()[0]["rpId"] == RELYING_PARTY

        # The account now requires a second factor, and Anna's is her passkey: her password
        # alone is refused, rather than leading to setting up another factor.
        _require_second_factor(database, tenant.account.id, "require_staff_2fa")
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("status")).to_have_text("You have been logged out.")
        page.get_by_label("Username", exact=True).fill("anna")
        page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_text(USE_PASSKEY).first).to_be_visible()

        # The passkey alone logs her in, with no code and no set-up: it is both factors.
        page.goto(shared + "login")
        _passkey_login(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
        page.get_by_role("link", name="Settings").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Settings")

        # And on the account's own host.
        page.goto(own + "login")
        used = _passkey_login(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
        replayed = _replay(used, server, own_host())
        assert replayed.status_code == 401
        assert REFUSED in replayed.text

        # A copied authenticator is refused.
        page.get_by_role("button", name="Log out").click()
        count = _sign_count(database)
        authenticator.clone(sign_count=count - 1)
        _passkey_login(page)
        expect(page.get_by_role("alert")).to_have_text(REFUSED)

        # Removed, the passkey logs nobody in.
        authenticator.clone(sign_count=count + 10)
        _passkey_login(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
        page.goto(own + "passkeys")
        page.get_by_role("button", name="Remove passkey Phone").click()
        # Without a passkey, the account's requirement reaches her open session at once.
        expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step verification")
        with database.engine.connect() as connection:
            assert connection.execute(sa.select(passkeys.c.id)).all() == []
        page.goto(own + "login")
        _passkey_login(page)
        expect(page.get_by_role("alert")).to_have_text(REFUSED)

        assert [row[:3] for row in _events(database, "staff_user")] == [
            (anna.iduser, "passkey_register", "staff"),
            (anna.iduser, "passkey_login", "staff"),
            (anna.iduser, "passkey_login", "staff"),
            (anna.iduser, "passkey_login", "staff"),
            (anna.iduser, "passkey_remove", "staff"),
        ]
    finally:
        context.close()


def test_a_customer_registers_a_passkey_instead_of_the_app_the_portal_requires(
    server: str, tenant: Tenant, browser: Browser, database: Database
) -> None:
    customer = tenant.create_customer(
        name="Bakker Fietsen", username="bakker", can_login=True, password=PASSWORD,
        language="en",
    )  # fmt: skip
    _require_second_factor(database, tenant.account.id, "require_portal_2fa")
    shared = at(server, SHARED_HOST) + "/portal/acme/"
    welcome = "Welcome, Bakker Fietsen"
    context, page, authenticator = new_context(browser, locale="en-GB")
    try:
        # The password alone leads to the set-up page, which offers a passkey instead.
        page.goto(shared + "login")
        page.get_by_label("Username").fill("bakker")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step verification")
        secret = page.locator(".key code").inner_text()
        assert untranslated(page.content(), "en", [tenant.account.name, secret]) == []

        # The passkey meets the requirement: the login is complete, no code is asked for.
        page.get_by_label("Name of the new passkey").fill("Phone")
        page.get_by_role("button", name="Register a passkey instead").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(welcome)
        (credential,) = authenticator.credentials()
        assert credential["rpId"] == RELYING_PARTY
        page.get_by_role("link", name="Your passkeys").click()
        expect(page.locator(".passkeys li")).to_contain_text("Phone")

        # A later login with it, nothing typed.
        page.goto(shared)
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("status")).to_have_text("You have been logged out.")
        _passkey_login(page)
        expect(page.get_by_role("heading", level=1)).to_have_text(welcome)

        customer_id = customer["idfulfilment_customer"]
        assert [(*row[:3], json.loads(row[3])) for row in _events(database, "customer")] == [
            (customer_id, "passkey_register", "portal", {"passkey": "Phone"}),
            (customer_id, "passkey_login", "portal", {"passkey": "Phone"}),
        ]
    finally:
        context.close()


def test_a_staff_user_meets_a_new_requirement_with_a_passkey_in_her_open_session(
    server: str, tenant: Tenant, browser: Browser, database: Database
) -> None:
    anna = make_user(database, tenant, "anna", firstname="Anna", lastname="Smit", language="en")
    own = at(server, own_host()) + "/admin/"
    context, page, authenticator = new_context(browser, locale="en-GB")
    try:
        page.goto(own + "login")
        page.get_by_label("Username", exact=True).fill("anna")
        page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")

        # The requirement reaches her open session; a passkey meets it, and she stays in.
        _require_second_factor(database, tenant.account.id, "require_staff_2fa")
        page.goto(own)
        expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step verification")
        page.get_by_label("Name of the new passkey").fill("Laptop")
        page.get_by_role("button", name="Register a passkey instead").click()
        expect(page.get_by_role("status")).to_have_text("The passkey has been added.")
        expect(page.locator(".passkeys li")).to_contain_text("Laptop")
        assert len(authenticator.credentials()) == 1
        page.goto(own)
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
        assert [row[:3] for row in _events(database, "staff_user")] == [
            (anna.iduser, "passkey_register", "staff"),
        ]
    finally:
        context.close()


def test_without_javascript_the_passkey_forms_stay_hidden_and_passwords_work(
    server: str, tenant: Tenant, browser: Browser, database: Database
) -> None:
    tenant.create_customer(name="Smith & Daughters", username="smith", can_login=True,
                           password=PASSWORD, language="en")  # fmt: skip
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(at(server, SHARED_HOST) + "/portal/acme/login")
        assert page.locator("form[data-passkey='login']").count() == 1
        expect(page.get_by_role("button", name="Log in with a passkey")).to_be_hidden()
        page.get_by_label("Username").fill("smith")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Smith & Daughters")
        page.get_by_role("link", name="Your passkeys").click()
        expect(page.get_by_text("You have no passkeys.")).to_be_visible()
        expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()

        # The portal now requires a second factor: the set-up page hides its passkey
        # instead, and the authenticator app is set up as ever.
        _require_second_factor(database, tenant.account.id, "require_portal_2fa")
        page.goto(at(server, SHARED_HOST) + "/portal/acme/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step verification")
        expect(page.get_by_role("button", name="Register a passkey instead")).to_be_hidden()
        secret = page.locator(".key code").inner_text().replace(" ", "")
        page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
    finally:
        context.close()
