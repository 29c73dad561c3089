"""The back office's case: the customers list page's server time in the big account, its
first page, page 10,000 and a search, read by a logged-in staff user."""

from __future__ import annotations

import http.client
import re
from urllib.parse import quote, urlencode

from fulfilment.accounts.service import get_account
from fulfilment.db import Connection, Database
from fulfilment.passwords import hash_password_sync
from fulfilment.settings import Settings
from fulfilment.staff import service as staff

from .fill import COMMON_WORD, RARE_WORD, SUBDOMAIN, Filled
from .processes import Server

STAFF_USERNAME = "bench-staff"
STAFF_PASSWORD = "bench-staff-password"  # noqa: S105 - a throwaway database's test user
BASE = f"/admin/{SUBDOMAIN}/"
# Page 10,000 of 100 customers a page.
FAR_PAGE_OFFSET = 999_900
TARGET_P99_MS = 100.0


def pages(customers: int) -> list[tuple[str, str]]:
    """(what the case is called, the page's path). Page 10,000 is the last full page of a
    smaller fill."""
    far = min(FAR_PAGE_OFFSET, max(0, (customers - 1) // 100 * 100))
    return [
        ("list page 1", f"{BASE}customers"),
        (f"list page {far // 100 + 1:,}", f"{BASE}customers?offset={far}"),
        ("list search, 1%", f"{BASE}customers?search={quote(COMMON_WORD.lower())}"),
        ("list search, rare", f"{BASE}customers?search={quote(RARE_WORD.lower())}"),
    ]


def add_staff_user(filled: Filled) -> None:
    """A staff user of the big account, as `fulfilment users create` makes one."""
    database = Database(Settings(database_url=filled.url))
    new = staff.NewUser(username=STAFF_USERNAME, emailaddress="staff@bench.example").checked()
    password_hash = hash_password_sync(STAFF_PASSWORD)

    async def create(connection: Connection) -> None:
        account = await get_account(connection, SUBDOMAIN)
        await staff.create_user(connection, account, new, password_hash)

    try:
        database.write_sync(create)
    finally:
        database.close()


def _cookies(response: http.client.HTTPResponse) -> str:
    return "; ".join(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [])


def session_cookie(server: Server) -> str | None:
    """Log the staff user in as a browser would; its session cookie, or None on a build
    without the back office."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", f"{BASE}login")
        response = connection.getresponse()
        page = response.read().decode("utf-8", "replace")
        if response.status == 404:
            return None
        token = re.search(r'name="csrf_token" value="([^"]*)"', page)
        body = urlencode(
            {
                "username": STAFF_USERNAME,
                "password": STAFF_PASSWORD,
                "csrf_token": token[1] if token else "",
            }
        )
        connection.request(
            "POST",
            f"{BASE}login",
            body=body,
            headers={
                "Cookie": _cookies(response),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        answer = connection.getresponse()
        answer.read()
        if answer.status != 303:
            raise RuntimeError(f"the staff login answered {answer.status}")
        return _cookies(answer)
    finally:
        connection.close()


def request(cookie: str, path: str) -> dict[str, str]:
    """wrk.lua's variables for one page."""
    return {"BENCH_METHOD": "GET", "BENCH_PATH": path, "BENCH_COOKIE": cookie}
