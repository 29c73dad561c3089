"""The pages people use most, at a laptop's width (1366 px, in English) and a phone's
(390 px, in Dutch), in Debian's chromium against `fulfilment serve`: the customer form
with its errors, the customers list, a webhook's page and the API console (/docs). Each
fits its width, and its screenshot goes to test-output/screens/{width}/."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from fulfilment.db import Database
from tests.factories import Tenant

from .conftest import make_user
from .helpers import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screens"
# A public address (documentation's example.com); nothing is sent to it in the test.
PUBLIC_ADDRESS = "http://93.184.215.14/hook"
# width -> (height, who logs in, the page's language, words of its forms)
SCREENS = {
    1366: (768, "anna", "en", {"username": "Username", "password": "Password",
                                "log in": "Log in", "save": "Save", "title": "Error: "}),
    390: (844, "bram", "nl", {"username": "Gebruikersnaam", "password": "Wachtwoord",
                              "log in": "Inloggen", "save": "Opslaan", "title": "Fout: "}),
}  # fmt: skip


def _png_width(path: Path) -> int:
    """The width a PNG file's header gives."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width: int = struct.unpack(">I", header[16:20])[0]
    return width


def _shot(page: Page, width: int, name: str) -> None:
    """The page fits `width` (nothing to scroll sideways); its screenshot, whole."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width, (name, page.url)
    folder = SCREENSHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert _png_width(path) == width


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", SCREENS)
def test_the_pages_people_use_most_fit_a_laptop_and_a_phone(
    server: str, tenant: Tenant, browser: Browser, database: Database, width: int
) -> None:
    height, username, language, words = SCREENS[width]
    make_user(database, tenant, username, firstname="Sam", lastname="Jones", language=language,
              admin=True)  # fmt: skip
    for name, login, email, language_of in (
        ("Jansen Tuinmeubelen", "jansen", "info@jansen.example", "nl"),
        ("Smith & Daughters Wholesale Fulfilment Ltd", "smith", None, "en"),
        ("Nederlandse Verzendgroothandel Oost-Nederland", "oost", "orders@oost.example", "nl"),
    ):
        tenant.create_customer(name=name, username=login, emailaddress=email, language=language_of)
    hook = tenant.post(
        "/api/v1/hooks",
        {"name": "Webshop", "event": "fulfilment_customers.changed", "address": PUBLIC_ADDRESS},
    )
    assert hook.status_code == 200, hook.text
    idhook = hook.json()["idhook"]
    base = f"{server}/admin/acme/"

    pages = browser.new_context(viewport={"width": width, "height": height},
                                java_script_enabled=False)  # fmt: skip
    console = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = pages.new_page()
        page.goto(f"{base}login?lang={language}")
        page.get_by_label(words["username"], exact=True).fill(username)
        page.get_by_label(words["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=words["log in"]).click()

        page.goto(f"{base}customers")
        expect(page.get_by_text("Smith & Daughters Wholesale Fulfilment Ltd")).to_be_visible()
        _shot(page, width, "customers")

        page.goto(f"{base}customers/new")
        page.locator("input[name=emailaddress]").fill("root,victim@acme.test")
        page.get_by_role("button", name=words["save"]).click()
        summary = page.locator(".error-summary")
        expect(summary).to_be_visible()
        expect(summary.locator("a[href='#name']")).to_have_count(1)
        expect(summary.locator("a[href='#emailaddress']")).to_have_count(1)
        assert page.title().startswith(words["title"])
        expect(page.locator("input[name=emailaddress]")).to_have_value("root,victim@acme.test")
        _shot(page, width, "customer-form-errors")

        page.goto(f"{base}hooks/{idhook}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Webshop")
        _shot(page, width, "hook")

        docs = console.new_page()
        docs.goto(f"{server}/docs")
        expect(docs.locator(".opblock").first).to_be_visible()
        _shot(docs, width, "docs")
    finally:
        pages.close()
        console.close()
