"""The API console at /docs in a real browser (Debian's chromium, driven by Playwright)
against `fulfilment serve`: every operation shown with its examples, a request tried with
a key from the page, no script or style refused by the page's policy, and a layout that
fits a phone. Screenshots go to test-output/docs/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from fulfilment.client import Client
from tests.live import LiveAccount, LiveServer, live_server
from tests.portal.test_browser import CHROMIUM, CHROMIUM_FLAGS

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "docs"
WIDTHS = (1366, 390)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("docs-server")) as running:
        yield running


@pytest.fixture(scope="module")
def account(server: LiveServer) -> LiveAccount:
    account = server.create_account("console")
    with Client(server.url, api_key=account.key) as client:
        client.customers.create(name="Tulip Trading Ltd", username="tuliptrading")
    return account


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _operations(server: LiveServer) -> list[str]:
    document = httpx.get(server.url + "openapi.json").json()
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
    ]


def _open(browser: Browser, server: LiveServer, width: int) -> tuple[Page, list[str]]:
    """The console at `width`, with every policy violation and page error it reports."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.goto(f"http://127.0.0.1:{server.port}/docs")
    return page, problems


@pytest.mark.parametrize("width", WIDTHS)
def test_the_console_shows_every_operation_and_fits_the_screen(
    browser: Browser, server: LiveServer, width: int
) -> None:
    page, problems = _open(browser, server, width)
    operations = _operations(server)
    blocks = page.locator(".opblock-tag-section .opblock")
    expect(blocks).to_have_count(len(operations))
    for operation in operations:
        expect(page.locator(f"[id$='-{operation}']")).to_have_count(1)
    expect(page.locator(".info .description")).to_contain_text("HTTP Basic")
    # What a hook's address receives: one entry per event.
    webhooks = page.locator(".webhooks")
    for event in ("fulfilment_customers.created", "fulfilment_customers.changed", "ping"):
        expect(webhooks.get_by_text(event, exact=True)).to_have_count(1)

    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{width}.png"))

    # Opened, an operation shows its example request and answer, and still fits.
    page.locator("[id$='-createFulfilmentCustomer'] .opblock-summary").click()
    operation = page.locator("[id$='-createFulfilmentCustomer']")
    expect(operation.locator("textarea.body-param__text")).to_have_value(
        re.compile("Tulip Trading Ltd")
    )
    expect(operation.locator(".responses-table .example").first).to_contain_text(
        "idfulfilment_customer"
    )
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    page.screenshot(path=str(SCREENSHOTS / f"console-operation-{width}.png"), full_page=False)
    assert problems == []
    page.close()


def test_a_request_is_tried_with_a_key_from_the_page(
    browser: Browser, server: LiveServer, account: LiveAccount
) -> None:
    page, problems = _open(browser, server, 390)
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".dialog-ux")
    dialog.locator("input[type=text]").fill(account.key)
    dialog.locator("input[type=password]").fill("X")
    dialog.get_by_role("button", name="Apply credentials").click()
    expect(dialog.get_by_role("button", name="Remove authorization")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()

    listing = page.locator("[id$='-listFulfilmentCustomers']")
    listing.locator(".opblock-summary").click()
    listing.get_by_role("button", name="Execute").click()

    live = listing.locator(".live-responses-table")
    expect(live.locator("tbody .response-col_status")).to_have_text("200")
    expect(live.locator("tbody .response-col_description")).to_contain_text("tuliptrading")
    expect(live.locator("tbody .response-col_description")).to_contain_text("x-time-zone")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "console-tried-390.png"), full_page=False)

    # An id is filled in already: the account's first customer is 1 on this new server.
    one = page.locator("[id$='-getFulfilmentCustomer']")
    one.locator(".opblock-summary").click()
    expect(one.locator("tr[data-param-name='idfulfilment_customer'] input")).to_have_value("1")
    one.get_by_role("button", name="Execute").click()
    expect(one.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    expect(one.locator(".live-responses-table tbody .response-col_description")).to_contain_text(
        "allowed_shipping_profiles"
    )
    assert problems == []
    page.close()
