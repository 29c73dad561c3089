"""The back office in a real browser: Debian's chromium, driven by Playwright, without
JavaScript, against `fulfilment serve` on both backends. An administrator on a desktop in
English and a staff user on a phone in Dutch; screenshots of every page go to
test-output/admin/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, BrowserContext, Page, expect

from fulfilment.db import Database
from tests.factories import CUSTOMERS, Tenant
from tests.portal import helpers as portal
from tests.portal.helpers import untranslated

from .conftest import make_user
from .helpers import PASSWORD

DATES = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "admin"
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "nl-NL"}


def _shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _words(page: Page, language: str, data: list[str]) -> None:
    """Only catalogue words, besides the data shown (and dates, which are data too)."""
    assert page.locator("html").get_attribute("lang") == language
    content = DATES.sub("", page.content())
    assert untranslated(content, language, data) == [], page.url


def _next_code(secret: str) -> str:
    # The enrolment used this time step's code, and a code is good once: the next step's
    # (one step of clock drift is allowed).
    return pyotp.TOTP(secret).at(time.time() + 30)


def _context(browser: Browser, **options: object) -> BrowserContext:
    return browser.new_context(**options, java_script_enabled=False)  # type: ignore[arg-type]


def test_staff_manage_customers_in_a_browser(
    server: str, tenant: Tenant, browser: Browser, database: Database, database_url: str
) -> None:
    make_user(database, tenant, "anna", firstname="Anna", lastname="Smit", language="en",
              admin=True)  # fmt: skip
    make_user(database, tenant, "piet", firstname="Piet", lastname="Bakker", language="nl")
    jansen = tenant.create_customer(
        name="Jansen Tuinmeubelen", username="jansen", emailaddress="info@jansen.example",
        can_login=True, password=portal.PASSWORD, language="nl",
    )  # fmt: skip
    tenant.create_customer(name="Smith & Daughters", username="smith", language="en")
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    folder = SCREENSHOTS / backend
    data = [tenant.account.name, "Anna Smit", "Piet Bakker", "Jansen Tuinmeubelen", "jansen",
            "info@jansen.example", "Smith & Daughters", "smith", "Main", "PostNL", "Standard",
            "Signature", "Default", "Tulp Trading", "Tulp Trading BV", "tulp", "not an address",
            "info@tulp.example", "anna", "piet", "1", "2", "3"]  # fmt: skip

    # The customer is logged in to the portal, in a browser of its own.
    customer_context = _context(browser)
    customer_page = customer_context.new_page()
    office = _context(browser, **DESKTOP)
    page = office.new_page()
    base = f"{server}/admin/acme/"
    try:
        customer_page.goto(f"{server}/portal/acme/login?lang=nl")
        customer_page.get_by_label("Gebruikersnaam").fill("jansen")
        customer_page.get_by_label("Wachtwoord", exact=True).fill(portal.PASSWORD)
        customer_page.get_by_role("button", name="Inloggen").click()
        expect(customer_page.get_by_role("heading", level=1)).to_have_text(
            "Welkom, Jansen Tuinmeubelen"
        )

        # -- an administrator, in English, on a desktop ------------------------------------
        page.goto(f"{base}login?lang=en")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Log in to the back office of Acme BV"
        )
        _words(page, "en", data)
        _shot(page, folder, "01-login")
        page.get_by_label("Username", exact=True).fill("anna")
        page.get_by_label("Password", exact=True).fill("not the password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("The username or password is not correct.")
        _shot(page, folder, "02-login-refused")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
        expect(page.get_by_role("link", name="Jansen Tuinmeubelen")).to_be_visible()
        _words(page, "en", data)
        _shot(page, folder, "03-customers")

        # Two-step verification: enrol, log out, log in again with a code.
        page.get_by_role("link", name="Settings").click()
        _shot(page, folder, "04-settings")
        page.get_by_role("link", name="Set up two-step verification").click()
        expect(page.locator("figure.qr svg")).to_be_visible()
        _words(page, "en", [*data, page.locator(".key code").inner_text()])
        _shot(page, folder, "05-enrol")
        secret = page.locator(".key code").inner_text().replace(" ", "")
        page.get_by_label("Code", exact=True).fill("000000")
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("alert")).to_have_text("The code is not correct.")
        page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
        assert page.locator("ul.codes li").count() == 10
        _shot(page, folder, "06-recovery-codes")
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("status")).to_have_text("You have been logged out.")
        page.get_by_label("Username", exact=True).fill("anna")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Two-step verification")
        _words(page, "en", data)
        _shot(page, folder, "07-second-factor")
        page.get_by_label("Code", exact=True).fill(_next_code(secret))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")

        # Every staff user must use two-step verification from now on.
        page.get_by_role("link", name="Settings").click()
        page.get_by_label("Every staff user must use two-step verification").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("The settings have been saved.")
        _shot(page, folder, "08-settings-saved")

        # Search.
        page.get_by_role("link", name="Customers").click()
        page.get_by_role("searchbox", name="Search").fill("DAUGHTERS")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("link", name="Smith & Daughters")).to_be_visible()
        expect(page.get_by_role("link", name="Jansen Tuinmeubelen")).to_have_count(0)
        _shot(page, folder, "09-search")

        # A new customer, with a field error first; the typed values stay.
        page.get_by_role("link", name="New customer").click()
        page.get_by_label("Name", exact=True).fill("Tulp Trading")
        page.get_by_label("Username", exact=True).fill("tulp")
        page.get_by_label("E-mail address").fill("not an address")
        page.get_by_label("Language").select_option("en")
        page.get_by_label("Can log in to the portal").check()
        page.get_by_label("Generate a password (shown once)").check()
        page.get_by_label("Preferred warehouse").select_option(label="Main")
        page.get_by_label("PostNL · Signature").check()
        _words(page, "en", data)
        _shot(page, folder, "10-new-customer")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#emailaddress-error")).to_have_text(
            "Enter an e-mail address such as name@example.com."
        )
        expect(page.get_by_label("Name", exact=True)).to_have_value("Tulp Trading")
        expect(page.get_by_label("E-mail address")).to_have_value("not an address")
        expect(page.get_by_label("PostNL · Signature")).to_be_checked()
        _words(page, "en", data)
        _shot(page, folder, "11-new-customer-refused")
        page.get_by_label("E-mail address").fill("info@tulp.example")
        page.get_by_label("Generate a password (shown once)").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Tulp Trading")
        generated = page.locator("code.secret").inner_text()
        assert len(generated) == 16
        _shot(page, folder, "12-customer-created")

        # Edit it; the history names this staff user.
        page.get_by_role("link", name="Edit").click()
        expect(page.get_by_label("Name", exact=True)).to_have_value("Tulp Trading")
        _words(page, "en", data)
        _shot(page, folder, "13-edit-customer")
        page.get_by_label("Name", exact=True).fill("Tulp Trading BV")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("The customer has been saved.")
        expect(page.get_by_role("heading", level=1)).to_have_text("Tulp Trading BV")
        timeline = page.locator("ol.timeline > li")
        expect(timeline).to_have_count(2)
        expect(timeline.first.locator(".who")).to_have_text("Staff user anna")
        expect(timeline.first).to_contain_text("changed the customer")
        expect(page.get_by_text("PostNL · Signature", exact=True).first).to_be_visible()
        _words(page, "en", data)
        _shot(page, folder, "14-customer")
        created = next(c for c in tenant.get(CUSTOMERS).json() if c["username"] == "tulp")
        history = tenant.get(f"{CUSTOMERS}/{created['idfulfilment_customer']}/history").json()
        assert history[-1]["actor"]["type"] == "staff"
        assert history[-1]["actor"]["name"] == "anna"

        # End the portal sessions of a customer who is logged in.
        page.goto(f"{base}customers/{jansen['idfulfilment_customer']}")
        page.get_by_role("button", name="End portal sessions").click()
        expect(page.get_by_role("status")).to_have_text(
            "The customer's portal sessions have ended."
        )
        _shot(page, folder, "15-portal-sessions-ended")
        customer_page.reload()
        expect(customer_page).to_have_url(re.compile(r"/portal/acme/login\?notice=ended$"))

        page.goto(f"{base}customers/999999")
        expect(page.get_by_role("alert")).to_have_text("This customer does not exist.")
        _shot(page, folder, "16-not-found")
    finally:
        office.close()
        customer_context.close()

    # -- a staff user who is no administrator, in Dutch, on a phone ------------------------
    phone = _context(browser, **PHONE)
    page = phone.new_page()
    try:
        page.goto(f"{base}login")
        page.get_by_label("Gebruikersnaam").fill("piet")
        page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        # The account now requires a second factor: Piet sets it up before anything else.
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Verificatie in twee stappen instellen"
        )
        _fits(page, 390)
        _words(page, "nl", [*data, page.locator(".key code").inner_text()])
        _shot(page, folder, "21-phone-enrol-required")
        secret = page.locator(".key code").inner_text().replace(" ", "")
        page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Inschakelen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Herstelcodes")
        _fits(page, 390)
        _shot(page, folder, "22-phone-recovery-codes")
        page.get_by_role("link", name="Doorgaan").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Klanten")
        _fits(page, 390)
        _words(page, "nl", data)
        _shot(page, folder, "23-phone-customers")
        page.get_by_role("link", name="Tulp Trading BV").click()
        _fits(page, 390)
        _words(page, "nl", data)
        _shot(page, folder, "24-phone-customer")
        page.get_by_role("link", name="Instellingen").click()
        expect(
            page.get_by_text("Alleen beheerders kunnen deze instellingen wijzigen.")
        ).to_be_visible()
        expect(page.get_by_role("button", name="Opslaan")).to_have_count(0)
        _fits(page, 390)
        _words(page, "nl", data)
        _shot(page, folder, "25-phone-settings")
        page.get_by_role("link", name="Klanten").click()
        page.get_by_role("link", name="Nieuwe klant").click()
        page.get_by_role("button", name="Opslaan").click()
        expect(page.locator("#name-error")).to_have_text("Vul een naam in.")
        _fits(page, 390)
        _words(page, "nl", data)
        _shot(page, folder, "26-phone-new-customer-refused")
        # The keyboard reaches the form: Tab from the name field goes on to the username.
        page.get_by_label("Naam", exact=True).focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "username"
    finally:
        phone.close()
