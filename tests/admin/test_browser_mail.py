"""A staff user's forgotten password in a real browser (Debian's chromium, through
Playwright) against `fulfilment serve` sending through a real SMTP server: the mail's link
sets a new password, and the user logs in with it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from fulfilment.settings import Settings
from fulfilment.staff.schemas import User
from tests.mail.smtp import Inbox, link_in
from tests.portal.helpers import untranslated
from tests.portal.test_browser import SCREENSHOTS
from tests.portal.test_browser_mail import server
from tests.servers import free_port

__all__ = ["server"]

NEW_PASSWORD = "set from the mail"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, smtp_port: int, port: int) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        mail_from="office@warehouse.example",
        public_url=f"http://127.0.0.1:{port}",
    )


def test_a_staff_user_sets_a_forgotten_password_in_a_browser(
    server: str, piet: User, browser: Browser, inbox: Inbox, database_url: str
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    folder = SCREENSHOTS.parent / "admin" / f"mail-{backend}"
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="nl-NL", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server}/admin/acme/login?lang=nl")
        page.get_by_role("link", name="Wachtwoord vergeten?").click()
        page.get_by_label("Gebruikersnaam of e-mailadres").fill("piet")
        page.get_by_role("button", name="Stuur de link").click()
        expect(page.get_by_role("status")).to_contain_text("onderweg")
        assert untranslated(page.content(), "nl", ["Acme BV"]) == []
        page.screenshot(path=str(folder / "1-forgot-sent.png"), full_page=True)

        [mail] = inbox.wait_for(1)
        assert mail["To"] == "piet@warehouse.example"
        page.goto(link_in(mail))
        page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Nieuw wachtwoord nogmaals").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Wachtwoord instellen").click()
        expect(page.get_by_role("status")).to_have_text("Uw wachtwoord is ingesteld. Log ermee in.")
        page.get_by_label("Gebruikersnaam").fill("piet")
        page.get_by_label("Wachtwoord", exact=True).fill(NEW_PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("link", name="Klanten")).to_be_visible()
        page.screenshot(path=str(folder / "2-logged-in.png"), full_page=True)
    finally:
        context.close()
