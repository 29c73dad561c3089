"""The portal in a real browser: Debian's chromium, driven by Playwright, against the
service served by `fulfilment serve` on a free port of 127.0.0.1. Screenshots of every
page go to test-output/portal/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.factories import CUSTOMERS, Tenant
from tests.servers import ENCRYPTION_KEY

from .helpers import PASSWORD, untranslated

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "portal"
NEW_PASSWORD = "a much better one"

# What each customer's pages say, in its own language.
TEXTS = {
    "nl": {
        "login": "Inloggen bij Acme BV",
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "log in": "Inloggen",
        "refused": "De gebruikersnaam of het wachtwoord is onjuist.",
        "welcome": "Welkom, Jansen Tuinmeubelen",
        "current": "Huidig wachtwoord",
        "new": "Nieuw wachtwoord",
        "again": "Nieuw wachtwoord nogmaals",
        "change": "Wachtwoord wijzigen",
        "too short": "Het nieuwe wachtwoord moet minstens 8 tekens lang zijn.",
        "changed": "Uw wachtwoord is gewijzigd.",
        "log out": "Uitloggen",
        "logged out": "U bent uitgelogd.",
        "switch": "Nederlands",
    },
    "en": {
        "login": "Log in to Acme BV",
        "username": "Username",
        "password": "Password",
        "log in": "Log in",
        "refused": "The username or password is not correct.",
        "welcome": "Welcome, Smith & Daughters",
        "current": "Current password",
        "new": "New password",
        "again": "New password again",
        "change": "Change password",
        "too short": "The new password must be at least 8 characters.",
        "changed": "Your password has been changed.",
        "log out": "Log out",
        "logged out": "You have been logged out.",
        "switch": "English",
    },
}
CUSTOMERS_BY_LANGUAGE = {
    "nl": {"name": "Jansen Tuinmeubelen", "username": "jansen", "emailaddress": None},
    "en": {"name": "Smith & Daughters", "username": "Smith", "emailaddress": "ops@smith.example"},
}
# Each customer's browser starts in the other language, so the visitor switches first; the
# Dutch one browses on a phone, the English one on a desktop.
BROWSER = {
    "nl": {"locale": "en-GB", "viewport": {"width": 390, "height": 844}},
    "en": {"locale": "nl-NL", "viewport": {"width": 1280, "height": 800}},
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(database_url: str, tenant: Tenant) -> Iterator[str]:
    """`fulfilment serve` on the test's database; its base URL."""
    port = _free_port()
    environment = {
        **os.environ,
        "FULFILMENT_DATABASE_URL": database_url,
        "FULFILMENT_PORTAL_SECRET_KEY": "a test secret that is long enough to use",
        "FULFILMENT_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "FULFILMENT_RATE_LIMIT": "off",
    }
    command = [sys.executable, "-m", "fulfilment.cli", "serve", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
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
        if process.stderr:
            process.stderr.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's sync API keeps an event loop running in this thread while it
    # is open, which would break `asyncio.run` in the tests that come after these.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _only_catalogue_words(page: Page, language: str, data: list[str]) -> None:
    assert page.locator("html").get_attribute("lang") == language
    assert untranslated(page.content(), language, data) == []


def _log_in(page: Page, texts: dict[str, str], username: str, password: str) -> None:
    page.get_by_label(texts["username"]).fill(username)
    page.get_by_label(texts["password"], exact=True).fill(password)
    page.get_by_role("button", name=texts["log in"]).click()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_customer_uses_the_portal_in_a_browser(
    language: str, server: str, tenant: Tenant, browser: Browser, database_url: str
) -> None:
    texts = TEXTS[language]
    setup = CUSTOMERS_BY_LANGUAGE[language]
    customer = tenant.create_customer(
        **setup,
        can_login=True,
        password=PASSWORD,
        language=language,
        preferred_idwarehouse=tenant.warehouse,
        allowed_shipping_profiles=tenant.profiles,
    )
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    folder = SCREENSHOTS / f"{language}-{backend}"
    data = [tenant.account.name, str(setup["name"]), str(setup["username"]), "Main", "PostNL"]
    data += ["Standard", "Signature", "Default", str(setup["emailaddress"] or "")]

    # The pages work without JavaScript; the browser runs none.
    context = browser.new_context(**BROWSER[language], java_script_enabled=False)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        # The visitor's browser speaks the other language; it switches on the login page.
        page.goto(f"{server}/portal/acme/login")
        assert page.locator("html").get_attribute("lang") != language
        page.get_by_role("link", name=texts["switch"]).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(texts["login"])
        _only_catalogue_words(page, language, data)
        _shot(page, folder, "1-login")

        _log_in(page, texts, str(setup["username"]), "not the password")
        expect(page.get_by_role("alert")).to_have_text(texts["refused"])
        _shot(page, folder, "2-login-refused")

        _log_in(page, texts, str(setup["username"]).upper(), PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_have_text(texts["welcome"])
        for shown in ("Main", "PostNL · Standard", "PostNL · Signature"):
            expect(page.get_by_text(shown, exact=True).first).to_be_visible()
        _only_catalogue_words(page, language, data)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= BROWSER[language]["viewport"]["width"]  # type: ignore[index]
        _shot(page, folder, "3-customer")
        seen = tenant.get(f"{CUSTOMERS}/{customer['idfulfilment_customer']}").json()
        assert seen["last_login_at"] is not None

        page.get_by_label(texts["current"]).fill(PASSWORD)
        page.get_by_label(texts["new"], exact=True).fill("short")
        page.get_by_label(texts["again"]).fill("short")
        # No check of the browser's stops the form (it would speak the browser's language):
        # the server's rule answers, beside the field and in the summary.
        page.get_by_role("button", name=texts["change"]).click()
        expect(page.locator("#new_password-error")).to_have_text(
            ("Fout: " if language == "nl" else "Error: ") + texts["too short"]
        )
        expect(page.locator(".error-summary a")).to_have_text(texts["too short"])
        _shot(page, folder, "4-password-refused")

        page.get_by_label(texts["current"]).fill(PASSWORD)
        page.get_by_label(texts["new"], exact=True).fill(NEW_PASSWORD)
        page.get_by_label(texts["again"]).fill(NEW_PASSWORD)
        page.get_by_role("button", name=texts["change"]).click()
        expect(page.get_by_role("status")).to_have_text(texts["changed"])
        _only_catalogue_words(page, language, data)
        _shot(page, folder, "5-password-changed")

        page.get_by_role("button", name=texts["log out"]).click()
        expect(page.get_by_role("status")).to_have_text(texts["logged out"])
        assert page.locator("html").get_attribute("lang") == language
        _shot(page, folder, "6-logged-out")

        _log_in(page, texts, str(setup["username"]), PASSWORD)
        expect(page.get_by_role("alert")).to_have_text(texts["refused"])
        _shot(page, folder, "7-old-password-refused")

        _log_in(page, texts, str(setup["username"]), NEW_PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_have_text(texts["welcome"])
    finally:
        context.close()
