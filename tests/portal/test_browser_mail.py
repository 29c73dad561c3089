"""Links sent by mail, in a real browser (Debian's chromium, driven by Playwright) against
`fulfilment serve` sending through a real SMTP server: a forgotten password set again from
the mail, and a new e-mail address confirmed from its mailbox. Screenshots go to
test-output/portal/."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from fulfilment.settings import Settings
from tests.factories import CUSTOMERS, Tenant
from tests.mail.smtp import Inbox, link_in, text_of
from tests.servers import ENCRYPTION_KEY, free_port

from .helpers import PASSWORD, untranslated
from .test_browser import SCREENSHOTS, browser

__all__ = ["browser"]

NEW_PASSWORD = "set from the mail"
TEXTS = {
    "forgot": "Wachtwoord vergeten?",
    "identifier": "Gebruikersnaam of e-mailadres",
    "send": "Stuur de link",
    "new": "Nieuw wachtwoord",
    "again": "Nieuw wachtwoord nogmaals",
    "set": "Wachtwoord instellen",
    "password set": "Uw wachtwoord is ingesteld. Log ermee in.",
    "username": "Gebruikersnaam",
    "password": "Wachtwoord",
    "log in": "Inloggen",
    "welcome": "Welkom, Jansen Tuinmeubelen",
    "change": "Wijzigen",
    "new address": "Nieuw e-mailadres",
    "current": "Huidig wachtwoord",
    "send confirmation": "Stuur een bevestigingslink",
    "confirm": "Bevestigen",
    "sent": "We hebben een link naar uw nieuwe adres gestuurd.",
    "changed": "Uw e-mailadres is gewijzigd. Log opnieuw in.",
}


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, smtp_port: int, port: int) -> Settings:
    """The test's own app (that makes the test data) sends through the same server."""
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        mail_from="portal@warehouse.example",
        public_url=f"http://127.0.0.1:{port}",
    )


@pytest.fixture
def server(settings: Settings, port: int, tenant: Tenant) -> Iterator[str]:
    """`fulfilment serve` on the test's database, sending mail to the test's server."""
    environment = {
        **os.environ,
        "FULFILMENT_DATABASE_URL": settings.database_url,
        "FULFILMENT_PORTAL_SECRET_KEY": "a test secret that is long enough to use",
        "FULFILMENT_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "FULFILMENT_RATE_LIMIT": "off",
        "FULFILMENT_SMTP_URL": str(settings.smtp_url),
        "FULFILMENT_MAIL_FROM": str(settings.mail_from),
        "FULFILMENT_PUBLIC_URL": str(settings.public_url),
    }
    command = [sys.executable, "-m", "fulfilment.cli", "serve", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the server stopped"
            try:
                if httpx.get(f"{url}/portal/portal.css", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _shot(page: Page, name: str, backend: str) -> None:
    folder = SCREENSHOTS / f"mail-{backend}"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_customer_sets_a_password_and_an_address_from_mails(
    server: str, tenant: Tenant, browser: Browser, inbox: Inbox, database_url: str
) -> None:
    customer = tenant.create_customer(
        name="Jansen Tuinmeubelen",
        username="jansen",
        emailaddress="info@jansen.example",
        can_login=True,
        password=PASSWORD,
        language="nl",
    )
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    data = [tenant.account.name, "Jansen Tuinmeubelen", "jansen", "info@jansen.example"]
    data += ["nieuw@jansen.example"]
    context = browser.new_context(locale="nl-NL", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server}/portal/acme/login")
        page.get_by_role("link", name=TEXTS["forgot"]).click()
        page.get_by_label(TEXTS["identifier"]).fill("info@jansen.example")
        page.get_by_role("button", name=TEXTS["send"]).click()
        expect(page.get_by_role("status")).to_contain_text("onderweg")
        assert untranslated(page.content(), "nl", data) == []
        _shot(page, "1-forgot-sent", backend)

        [mail] = inbox.wait_for(1)
        assert mail["To"] == "info@jansen.example"
        page.goto(link_in(mail))
        page.get_by_label(TEXTS["new"], exact=True).fill(NEW_PASSWORD)
        page.get_by_label(TEXTS["again"]).fill(NEW_PASSWORD)
        _shot(page, "2-choose-password", backend)
        page.get_by_role("button", name=TEXTS["set"]).click()
        expect(page.get_by_role("status")).to_have_text(TEXTS["password set"])

        page.get_by_label(TEXTS["username"]).fill("jansen")
        page.get_by_label(TEXTS["password"], exact=True).fill(NEW_PASSWORD)
        page.get_by_role("button", name=TEXTS["log in"]).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(TEXTS["welcome"])

        # The link worked once.
        page.goto(link_in(mail))
        expect(page.get_by_role("alert")).to_have_text("Deze link is verlopen of al gebruikt.")
        _shot(page, "3-link-used", backend)

        page.goto(f"{server}/portal/acme/")
        page.get_by_role("link", name=TEXTS["change"]).click()
        page.get_by_label(TEXTS["new address"]).fill("nieuw@jansen.example")
        page.get_by_label(TEXTS["current"]).fill(NEW_PASSWORD)
        page.get_by_role("button", name=TEXTS["send confirmation"]).click()
        expect(page.get_by_role("status")).to_contain_text(TEXTS["sent"])
        assert untranslated(page.content(), "nl", data) == []
        _shot(page, "4-address-asked", backend)

        [_, confirmation] = inbox.wait_for(2)
        assert confirmation["To"] == "nieuw@jansen.example"
        page.goto(link_in(confirmation))
        _shot(page, "5-confirm", backend)
        page.get_by_role("button", name=TEXTS["confirm"]).click()
        # A new address ends the customer's sessions: the login page says so.
        expect(page.get_by_role("status")).to_have_text(TEXTS["changed"])
        page.get_by_label(TEXTS["username"]).fill("jansen")
        page.get_by_label(TEXTS["password"], exact=True).fill(NEW_PASSWORD)
        page.get_by_role("button", name=TEXTS["log in"]).click()
        expect(page.locator("dd", has_text="nieuw@jansen.example")).to_be_visible()
        _shot(page, "6-address-changed", backend)

        [_, _, notice] = inbox.wait_for(3)
        assert notice["To"] == "info@jansen.example"
        assert "nieuw@jansen.example" in text_of(notice)
        seen = tenant.get(f"{CUSTOMERS}/{customer['idfulfilment_customer']}").json()
        assert seen["emailaddress"] == "nieuw@jansen.example"
    finally:
        context.close()
