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
# A public address (documentation's example.com); nothing is sent to it in the test.
PUBLIC_ADDRESS = "http://93.184.215.14/hook"
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
        # The single-field form pattern: a summary linking to the field, the title marked.
        expect(page.get_by_role("alert")).to_contain_text("The code is not correct.")
        expect(page.get_by_role("link", name="The code is not correct.")).to_have_attribute(
            "href", "#code"
        )
        expect(page).to_have_title(re.compile(r"^Error: "))
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
        page.get_by_label("Can log in", exact=True).check()
        page.get_by_label("Generate a password (shown once)").check()
        page.get_by_label("Preferred warehouse").select_option(label="Main")
        page.get_by_label("PostNL · Signature").check()
        _words(page, "en", data)
        _shot(page, folder, "10-new-customer")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#emailaddress-error")).to_have_text(
            "Error: Enter an e-mail address such as name@example.com."
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
        page.get_by_role("link", name="End portal sessions").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "End the portal sessions of Jansen Tuinmeubelen?"
        )
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
        expect(page.locator("#name-error")).to_have_text("Fout: Vul een naam in.")
        _fits(page, 390)
        _words(page, "nl", data)
        _shot(page, folder, "26-phone-new-customer-refused")
        # The keyboard reaches the form: Tab from the name field goes on to the next field.
        page.get_by_label("Naam", exact=True).focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "can_login"
    finally:
        phone.close()


def test_an_administrator_manages_the_account_in_a_browser(
    server: str, tenant: Tenant, browser: Browser, database: Database, database_url: str
) -> None:
    make_user(database, tenant, "anna", firstname="Anna", lastname="Smit", language="en",
              admin=True)  # fmt: skip
    make_user(database, tenant, "piet", firstname="Piet", lastname="Bakker", language="nl")
    jansen = tenant.create_customer(name="Jansen Tuinmeubelen", username="jansen")
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    folder = SCREENSHOTS / backend
    base = f"{server}/admin/acme/"
    data = [tenant.account.name, "Acme Logistics", "Anna Smit", "Piet Bakker", "anna", "piet",
            "anna@warehouse.example", "piet@warehouse.example", "Jansen Tuinmeubelen", "jansen",
            "tests", "Webshop", PUBLIC_ADDRESS, "Europe/Amsterdam", "Europe/London",
            "Mars/Olympus", "els", "Els", "els@warehouse.example", "1", "2", "3"]  # fmt: skip

    office = _context(browser, **DESKTOP)
    page = office.new_page()
    try:
        page.goto(f"{base}login?lang=en")
        page.get_by_label("Username", exact=True).fill("anna")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Customers")

        # API keys: a field error, then a key for one customer, shown once with curl.
        page.get_by_role("link", name="API keys").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
        prefixes = [p.strip("…") for p in page.locator("code.prefix").all_inner_texts()]
        _words(page, "en", [*data, *prefixes])
        _shot(page, folder, "31-keys")
        page.get_by_label("Name", exact=True).fill("Webshop")
        page.get_by_label("Only for customer number (optional)").fill("not a number")
        page.get_by_role("button", name="Create API key").click()
        expect(page.locator("#customer-error")).to_have_text(
            "Error: Enter the number of one of the account's customers."
        )
        expect(page.get_by_label("Name", exact=True)).to_have_value("Webshop")
        _shot(page, folder, "32-key-refused")
        page.get_by_label("Only for customer number (optional)").fill(
            str(jansen["idfulfilment_customer"])
        )
        page.get_by_role("button", name="Create API key").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("The new API key")
        key = page.locator("code.secret").inner_text()
        expect(page.get_by_label("Try it with curl")).to_have_value(
            f"curl -u {key}: {server}/api/v1/fulfilment/customers"
        )
        _shot(page, folder, "33-key-created")
        page.get_by_role("link", name="Back to the API keys").click()
        expect(page.get_by_text(key)).to_have_count(0)
        webshop = page.get_by_role("row").filter(has_text="Webshop")
        expect(webshop).to_contain_text("Jansen Tuinmeubelen")
        expect(webshop).to_contain_text("anna")
        # Revoking asks first, on a page of its own.
        page.get_by_role("link", name=re.compile(r"^Revoke Webshop \(fk_")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            re.compile(r"^Revoke API key Webshop \(fk_[\w-]+…\)\?$")
        )
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("status")).to_have_text("The API key has been revoked.")
        expect(page.get_by_role("row").filter(has_text="Webshop")).to_contain_text("Revoked at")
        _shot(page, folder, "34-key-revoked")

        # Webhooks: an address inside the network is refused beside its field.
        page.get_by_role("link", name="Webhooks").click()
        page.get_by_label("Name", exact=True).fill("Webshop")
        page.get_by_label("Event").select_option(label="A customer is changed")
        page.get_by_label("Address").fill("http://127.0.0.1:8000/hook")
        page.get_by_role("button", name="Create webhook").click()
        expect(page.locator("#address-error")).to_have_text(
            "Error: "
            "This address cannot receive webhooks: use an http or https address on the public "
            "internet."
        )
        expect(page.get_by_label("Address")).to_have_value("http://127.0.0.1:8000/hook")
        _words(page, "en", data)
        _shot(page, folder, "341-hook-refused")
        page.get_by_label("Address").fill(PUBLIC_ADDRESS)
        page.get_by_role("button", name="Create webhook").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Webshop")
        secret = page.locator("code.secret").inner_text()
        assert len(secret) >= 40
        _words(page, "en", [*data, secret, PUBLIC_ADDRESS])
        _shot(page, folder, "342-hook-created")
        # The browser was left on a GET: a reload shows the secret no more.
        page.reload()
        expect(page.get_by_text(secret)).to_have_count(0)
        page.get_by_role("link", name="Deactivate").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Deactivate webhook Webshop?")
        page.get_by_role("button", name="Deactivate").click()
        expect(page.get_by_role("status")).to_have_text(
            "The webhook has been deactivated: nothing is sent to it."
        )
        expect(page.get_by_role("button", name="Send a test event")).to_have_count(0)
        expect(page.get_by_text(secret)).to_have_count(0)
        _shot(page, folder, "343-hook-deactivated")
        page.get_by_role("link", name="Delivery log").click()
        expect(page.get_by_text("Nothing has been sent to this webhook yet.")).to_be_visible()
        _shot(page, folder, "344-hook-deliveries")

        # Staff users: Anna cannot step down while she is the only administrator.
        page.get_by_role("link", name="Staff users").click()
        _words(page, "en", data)
        _shot(page, folder, "35-users")
        page.get_by_role("link", name="Anna Smit").click()
        page.get_by_role("link", name="Deactivate").click()
        page.get_by_role("button", name="Deactivate").click()
        expect(page.get_by_role("alert")).to_have_text(
            "The account's last active administrator cannot be deactivated or lose the role."
        )
        _shot(page, folder, "36-last-admin")
        page.get_by_role("link", name="Back to the staff users").click()
        # An invitation: a username taken first, then a new colleague.
        page.get_by_label("Username", exact=True).fill("PIET")
        page.get_by_label("E-mail address").fill("els@warehouse.example")
        page.get_by_label("First name").fill("Els")
        page.get_by_role("button", name="Send the invitation").click()
        expect(page.locator("#username-error")).to_have_text(
            "Error: This username is used by another staff user already."
        )
        _words(page, "en", [*data, "PIET"])
        _shot(page, folder, "351-invite-refused")
        page.get_by_label("Username", exact=True).fill("els")
        page.get_by_role("button", name="Send the invitation").click()
        expect(page.get_by_role("status")).to_have_text(
            "The staff user has been invited: a link to choose a password is on its way."
        )
        expect(page.get_by_role("heading", level=1)).to_have_text("Els")
        _shot(page, folder, "352-invited")
        page.get_by_role("link", name="Back to the staff users").click()
        page.get_by_role("link", name="Piet Bakker").click()
        page.get_by_role("button", name="Make administrator").click()
        expect(page.get_by_role("status")).to_have_text("The staff user's role has been changed.")
        page.get_by_role("button", name="Make staff (no longer administrator)").click()
        _words(page, "en", data)
        _shot(page, folder, "37-user")

        # Settings: a time zone that does not exist, then a new name and zone.
        page.get_by_role("link", name="Settings").click()
        page.get_by_label("Name", exact=True).fill("Acme Logistics")
        page.get_by_label("Time zone").fill("Mars/Olympus")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#timezone-error")).to_have_text(
            "Error: Choose a time zone from the list, such as Europe/Amsterdam."
        )
        _words(page, "en", data)
        _shot(page, folder, "38-settings-refused")
        page.get_by_label("Time zone").fill("Europe/London")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("The settings have been saved.")
        expect(page.locator(".brand strong")).to_have_text("Acme Logistics")

        # The audit log: everything above, and only the settings when filtered.
        page.get_by_role("link", name="Audit log").click()
        entries = page.locator("ol.timeline > li")
        expect(entries.first).to_contain_text("Staff user anna: changed the account's settings")
        expect(page.get_by_text("revoked API key Webshop")).to_be_visible()
        expect(page.get_by_text("created customer Jansen Tuinmeubelen")).to_be_visible()
        expect(page.get_by_text("deactivated webhook Webshop")).to_be_visible()
        expect(page.get_by_text("invited staff user els")).to_be_visible()
        _words(page, "en", data)
        _shot(page, folder, "39-audit")
        page.get_by_label("What").select_option(label="Settings")
        page.get_by_label("Who").select_option(label="Staff user anna")
        page.get_by_role("button", name="Filter").click()
        expect(entries).to_have_count(1)
        expect(entries.first).to_contain_text("Europe/London")
        _shot(page, folder, "40-audit-filtered")
    finally:
        office.close()

    # A staff user who is no administrator sees none of it, on a phone.
    phone = _context(browser, **PHONE)
    page = phone.new_page()
    try:
        page.goto(f"{base}login")
        page.get_by_label("Gebruikersnaam").fill("piet")
        page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Klanten")
        for name in ("API-sleutels", "Webhooks", "Medewerkers", "Logboek"):
            expect(page.get_by_role("link", name=name)).to_have_count(0)
        answer = page.goto(f"{base}keys")
        assert answer is not None
        assert answer.status == 403
        expect(page.get_by_role("alert")).to_have_text("Deze pagina is alleen voor beheerders.")
        _fits(page, 390)
        _words(page, "nl", data)
        _shot(page, folder, "41-phone-admins-only")
    finally:
        phone.close()
