"""Every page of the back office and the portal in a real browser (Debian's chromium),
at a desktop's width and a phone's: axe-core finds no serious or
critical violation and no duplicate landmark, nothing is wider than the screen, and the
styles that carry meaning (an invalid field, the current page, links, the focus ring)
are computed as they should be. Screenshots of the customer form with its errors, the
customers list and a hook's page go to test-output/pages/."""

from __future__ import annotations

import re
import time
from functools import partial
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from fulfilment.db import Database
from fulfilment.tables import passkeys, staff_users
from tests.factories import Tenant
from tests.hooks.helpers import CREATED
from tests.passkeys.harness import SHARED_HOST, at, own_host
from tests.passkeys.harness import new_context as passkey_context
from tests.portal import helpers as portal

from .conftest import make_user
from .helpers import PASSWORD

WIDTHS = (1366, 390)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "pages"
# A public address (documentation's example.com): the hooks made here point to it.
PUBLIC_ADDRESS = "http://93.184.215.14/hook"
AXE = Axe()
# What a page looks like does not depend on the database behind it: these run on SQLite,
# while the flows through the pages run on both backends (test_browser.py).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ERROR_RED = "rgb(163, 38, 27)"
ACCENT = "rgb(31, 95, 191)"


def _violations(page: Page) -> list[str]:
    """What axe-core finds that must not be there: anything serious or critical, and the
    duplicate landmark names it rates moderate."""
    results = AXE.run(page)
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}): "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical") or violation["id"] == "landmark-unique"
    ]


def _checked(page: Page, width: int, found: list[str], seen: list[str]) -> None:
    seen.append(page.url)
    found += _violations(page)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        found.append(f"{page.url}: {scroll_width} px wide on a screen of {width} px")


def _rgb(text: str) -> tuple[float, ...]:
    numbers = re.findall(r"[\d.]+", text)
    return tuple(float(number) for number in numbers[:3])


def _luminance(colour: tuple[float, ...]) -> float:
    def linear(channel: float) -> float:
        channel /= 255
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two CSS colours (rgb()/rgba() as computed)."""
    lighter, darker = sorted((_luminance(_rgb(first)), _luminance(_rgb(second))), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _style(page: Page, selector: str, property_name: str) -> str:
    value: str = page.locator(selector).first.evaluate(
        f"element => getComputedStyle(element).getPropertyValue('{property_name}')"
    )
    return value


def _lines(page: Page, selector: str) -> int:
    """How many lines the text of the element takes."""
    count: int = page.locator(selector).first.evaluate(
        """element => {
            const range = document.createRange();
            range.selectNodeContents(element);
            return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
        }"""
    )
    return count


def _shot(page: Page, name: str, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def _log_in(page: Page, address: str, username: str, password: str, button: str) -> None:
    page.goto(address)
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name=button, exact=True).click()


def _prepared(tenant: Tenant, database: Database) -> dict[str, Any]:
    make_user(database, tenant, "anna", firstname="Anna", lastname="Smit", language="en",
              admin=True)  # fmt: skip
    make_user(database, tenant, "piet", firstname="Piet", lastname="Bakker", language="nl")
    jansen = tenant.create_customer(
        name="Jansen Tuinmeubelen Nederland", username="jansen", can_login=True,
        password=portal.PASSWORD, emailaddress="info@jansen-tuinmeubelen-nederland.example",
        language="nl", preferred_idwarehouse=tenant.warehouse,
        allowed_shipping_profiles=[tenant.profiles[1]],
    )  # fmt: skip
    tenant.create_customer(name="Smith & Daughters", username="smith", can_login=True,
                           password=portal.PASSWORD, language="en")  # fmt: skip
    tenant.create_customer(name="Bakkerij De Gouden Korenschoof", language="nl")
    answer = tenant.post("/api/v1/hooks", {"name": "Webshop", "event": CREATED,
                                           "address": PUBLIC_ADDRESS})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return {"jansen": jansen, "hook": answer.json()}


@pytest.mark.timeout(900)
def test_every_page_passes_axe_at_both_widths(
    server: str, tenant: Tenant, browser: Browser, database: Database
) -> None:
    prepared = _prepared(tenant, database)
    customer_id = prepared["jansen"]["idfulfilment_customer"]
    idhook = prepared["hook"]["idhook"]
    # The delivery log holds attempts (the address answers nothing): one region each.
    deliveries = f"/api/v1/hooks/{idhook}/deliveries"
    deadline = time.monotonic() + 60
    while not all(delivery["attempts"] for delivery in tenant.get(deliveries).json()):
        assert time.monotonic() < deadline, "no attempt was made"
        time.sleep(0.2)
    office = f"{server}/admin/acme/"
    portal_base = f"{server}/portal/acme/"
    found: list[str] = []
    seen: list[str] = []
    secrets: list[str] = []
    for width in WIDTHS:
        # JavaScript is on for axe-core, which the test injects (its checks wait on timers);
        # the pages themselves carry no script, and their CSP allows none.
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
        page = context.new_page()
        check = partial(_checked, page, width, found, seen)
        try:
            # -- the back office, logged out ---------------------------------------------
            for path in ("login?lang=en", "forgot?lang=nl", "no/such/page"):
                page.goto(office + path)
                check()
            _log_in(page, office + "login?lang=en", "anna", "wrong", "Log in")
            expect(page).to_have_title(re.compile(r"^Error: "))
            check()
            # -- an administrator --------------------------------------------------------
            _log_in(page, office + "login?lang=en", "anna", PASSWORD, "Log in")
            if secrets:
                # Set up at the first width: the next time step's code (one step of drift
                # is allowed; the enrolment used this step's, and a code is good once).
                check()
                page.locator("#code").fill(pyotp.TOTP(secrets[0]).at(time.time() + 30))
                page.get_by_role("button", name="Continue").click()
            paths = [
                "customers", "customers?search=jansen", "customers/new",
                f"customers/{customer_id}", f"customers/{customer_id}/edit",
                f"customers/{customer_id}/end-sessions", "keys", "hooks", f"hooks/{idhook}",
                f"hooks/{idhook}/deliveries", f"hooks/{idhook}/secret",
                f"hooks/{idhook}/deactivate", "users", "audit", "settings", "email",
            ]  # fmt: skip
            for path in paths:
                page.goto(office + path)
                assert page.locator("h1").count() == 1, path
                check()
            piet = database_user_id(database, "piet")
            for path in (f"users/{piet}", f"users/{piet}/deactivate"):
                page.goto(office + path)
                check()
            # Forms answered with their errors, and the pages their redirects lead to.
            page.goto(office + "customers/new")
            page.locator("#username").fill("JANSEN")
            page.locator("#emailaddress").fill("not an address")
            page.get_by_role("button", name="Save").click()
            check()
            page.goto(office + "keys")
            page.get_by_role("button", name="Create API key").click()
            check()
            page.locator("#key-name").fill(f"Webshop {width}")
            page.get_by_role("button", name="Create API key").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("The new API key")
            check()
            page.goto(office + "keys")
            page.locator("a[href*='/revoke']").first.click()
            check()
            page.goto(office + "hooks")
            page.locator("#hook-address").fill("ftp://nowhere")
            page.get_by_role("button", name="Create webhook").click()
            check()
            page.goto(office + "users")
            page.locator("#emailaddress").fill("no")
            page.get_by_role("button", name="Send the invitation").click()
            check()
            page.goto(office + "settings")
            page.locator("#timezone").fill("Mars/Olympus")
            page.get_by_role("button", name="Save").click()
            check()
            if not secrets:
                page.goto(office + "enrol")
                check()
                secrets.append(page.locator(".key code").inner_text().replace(" ", ""))
                page.locator("#code").fill(pyotp.TOTP(secrets[0]).now())
                page.get_by_role("button", name="Turn on").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
                check()
            page.goto(office + f"users/{database_user_id(database, 'anna')}")
            check()
            page.get_by_role("button", name="Log out").click()
            # -- a staff user who is no administrator: the 403 page ----------------------
            _log_in(page, office + "login?lang=nl", "piet", PASSWORD, "Inloggen")
            page.goto(office + "keys")
            expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
            check()
            # -- the portal --------------------------------------------------------------
            for path in ("login?lang=nl", "forgot?lang=en", "no/such/page"):
                page.goto(portal_base + path)
                check()
            _log_in(page, portal_base + "login?lang=nl", "jansen", "wrong", "Inloggen")
            expect(page).to_have_title(re.compile(r"^Fout: "))
            check()
            _log_in(page, portal_base + "login?lang=nl", "jansen", portal.PASSWORD, "Inloggen")
            check()
            page.get_by_role("button", name="Wachtwoord wijzigen").click()
            check()
            page.goto(portal_base + "email")
            check()
            page.get_by_role("button", name="Stuur een bevestigingslink").click()
            check()
        finally:
            context.close()
    assert found == []
    assert len(seen) >= 80
    assert any(address.endswith("/deliveries") for address in seen)


def test_the_check_has_teeth(server: str, browser: Browser) -> None:
    """axe-core runs on the service's pages, under their CSP: a page that lost its language
    and its heading's text is reported."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{server}/admin/acme/login")
        assert _violations(page) == []
        page.evaluate("document.documentElement.removeAttribute('lang')")
        page.evaluate("document.querySelector('button').textContent = ''")
        found = " ".join(_violations(page))
        assert "html-has-lang (serious)" in found
        assert "button-name (critical)" in found
    finally:
        context.close()


def database_user_id(database: Database, username: str) -> int:
    with database.engine.connect() as connection:
        iduser: int = connection.execute(
            sa.select(staff_users.c.iduser).where(staff_users.c.username == username)
        ).scalar_one()
    return iduser


def test_the_styles_that_carry_meaning(
    server: str, tenant: Tenant, browser: Browser, database: Database
) -> None:
    prepared = _prepared(tenant, database)
    idhook = prepared["hook"]["idhook"]
    office = f"{server}/admin/acme/"
    for width in WIDTHS:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="en-GB", java_script_enabled=False
        )
        page = context.new_page()
        try:
            _log_in(page, office + "login?lang=en", "anna", PASSWORD, "Log in")
            expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
            # The list: numbers, a total, "Not set" for an empty value, whole words.
            expect(page.get_by_text("Customers in the account: 3")).to_be_visible()
            numbers = page.locator("td.number").all_inner_texts()
            assert sorted(numbers) == ["1", "2", "3"]
            expect(page.locator("td em.unset").first).to_have_text("Not set")
            if width == 1366:
                for index in range(page.locator("td[data-label='Language']").count()):
                    assert (
                        _lines(page, f"tbody tr:nth-child({index + 1}) td[data-label='Language']")
                        == 1
                    )
            # The menu marks the current page; links have the accent colour.
            current = page.locator(".menu a[aria-current='page']")
            expect(current).to_have_text("Customers")
            assert _style(page, ".menu a[aria-current='page']", "font-weight") == "700"
            assert _style(page, ".menu a:not([aria-current])", "font-weight") == "400"
            assert _style(page, "main td a", "color") == ACCENT
            # The focus ring stands out from the page and the paper (WCAG: 3:1 at least).
            page.locator("#search").focus()
            ring = _style(page, "#search", "outline-color")
            assert _style(page, "#search", "outline-width") == "3px"
            for ground in (_style(page, "body", "background-color"), "rgb(255, 255, 255)"):
                assert contrast(ring, ground) >= 3, (ring, ground)
            _shot(page, "customers", width)

            # The customer form: every error at once, in the title, the summary and the fields.
            page.goto(office + "customers/new")
            page.locator("#username").fill("JANSEN")
            page.locator("#emailaddress").fill("not an address")
            page.get_by_role("button", name="Save").click()
            expect(page).to_have_title("Error: New customer · Acme BV")
            links = page.locator(".error-summary a")
            expect(links).to_have_count(3)
            for target in links.evaluate_all("links => links.map(link => link.hash)"):
                expect(page.locator(target)).to_have_attribute("aria-invalid", "true")
            for field in ("#name", "#username", "#emailaddress"):
                assert _style(page, field, "border-top-color") == ERROR_RED, field
                assert _style(page, field, "border-top-width") == "2px", field
            assert _style(page, "#password", "border-top-color") != ERROR_RED
            _shot(page, "customer-form-errors", width)

            # A web address field is a field like the others, and shows its error too.
            page.goto(office + "hooks")
            for property_name in ("border-top-width", "padding-top", "border-top-color"):
                assert _style(page, "#hook-address", property_name) == _style(
                    page, "#hook-name", property_name
                ), property_name
            page.locator("#hook-name").fill(f"Shop {width}")
            page.locator("#hook-address").fill(PUBLIC_ADDRESS + f"/{width}")
            page.get_by_label("Sign every delivery with a secret (shown once)").check()
            page.get_by_role("button", name="Create webhook").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(f"Shop {width}")
            secret = page.locator("code.secret").inner_text()
            _shot(page, "hook", width)
            # The browser is left on a GET: reloading sends nothing and shows it no more.
            page.reload()
            expect(page.get_by_role("heading", level=1)).to_have_text(f"Shop {width}")
            expect(page.get_by_text(secret)).to_have_count(0)
            page.goto(office + f"hooks/{idhook}")
            page.locator("#address").fill("ftp://nowhere")
            page.get_by_role("button", name="Save").click()
            assert _style(page, "#address", "border-top-color") == ERROR_RED
        finally:
            context.close()
    hooks = tenant.get("/api/v1/hooks").json()
    assert sorted(hook["name"] for hook in hooks) == ["Shop 1366", "Shop 390", "Webshop"]


@pytest.mark.timeout(600)
def test_the_passkey_pages_pass_axe_at_both_widths(
    server: str, tenant: Tenant, browser: Browser, database: Database
) -> None:
    """The pages that offer passkeys, where passkeys work (a host name, not an address),
    with the script on: the forms shown, their errors, a list of passkeys, a refusal."""
    make_user(database, tenant, "anna", firstname="Anna", language="en", admin=True)
    tenant.create_customer(name="Jansen", username="jansen", can_login=True,
                           password=portal.PASSWORD, language="nl")  # fmt: skip
    office = at(server, SHARED_HOST) + "/admin/acme/"
    portal_base = at(server, own_host()) + "/portal/"
    found: list[str] = []
    seen: list[str] = []
    for width in WIDTHS:
        context, page, authenticator = passkey_context(
            browser, viewport={"width": width, "height": 900}, locale="en-GB"
        )
        check = partial(_checked, page, width, found, seen)
        try:
            for base, username, password, button, add, log_out in (
                (office, "anna", PASSWORD, "Log in", "Add a passkey", "Log out"),
                (portal_base, "jansen", portal.PASSWORD, "Log in", "Passkey toevoegen",
                 "Uitloggen"),
            ):  # fmt: skip
                page.goto(base + "login")
                expect(page.locator("form[data-passkey='login'] button")).to_be_visible()
                check()
                _log_in(page, base + "login", username, password, button)
                page.goto(base + "passkeys")
                check()
                page.locator("form[data-passkey='register'] button").click()
                expect(page.locator("#passkey_name")).to_have_attribute("aria-invalid", "true")
                check()
                page.locator("#passkey_name").fill(f"Laptop {width}")
                page.get_by_role("button", name=add).click()
                expect(page.locator(".passkeys li")).to_have_count(1)
                check()
                page.goto(base)
                page.get_by_role("button", name=log_out).click()
                # A passkey the service no longer has: the refusal.
                database.write_sync(lambda c: c.execute(sa.delete(passkeys), {}))
                page.locator("form[data-passkey='login'] button").click()
                expect(page.get_by_role("alert")).to_be_visible()
                check()
                authenticator.clear()
        finally:
            context.close()
    assert found == []
    assert len(seen) == 2 * 2 * 5
