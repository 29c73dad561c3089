"""Driving the back office through the test client."""

from __future__ import annotations

import re

import httpx
import pyotp
from starlette.testclient import TestClient

from tests.portal.helpers import form_token

PASSWORD = "staff password 1"
BASE = "/admin/acme/"
SECRET = re.compile(r"<code>([A-Z2-7 ]+)</code>")
RECOVERY = re.compile(r"<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>")


def log_in(
    client: TestClient,
    username: str,
    password: str = PASSWORD,
    base: str = BASE,
    language: str = "en",
) -> httpx.Response:
    """Open the login form (in `language`) and send it; the answer is not followed."""
    form = client.get(f"{base}login?lang={language}")
    assert form.status_code == 200, form.text
    return client.post(
        f"{base}login",
        data={"csrf_token": form_token(form.text), "username": username, "password": password},
        follow_redirects=False,
    )


def send(
    client: TestClient, path: str, page: httpx.Response, base: str = BASE, **fields: str
) -> httpx.Response:
    """Send a form of `page` (which carries the form token) to `base + path`."""
    return client.post(
        f"{base}{path}",
        data={"csrf_token": form_token(page.text), **fields},
        follow_redirects=False,
    )


def enrol(client: TestClient, base: str = BASE) -> tuple[str, list[str]]:
    """Set up the second factor of the logged-in (or enrolling) user: its TOTP secret and
    recovery codes."""
    page = client.get(f"{base}enrol")
    assert page.status_code == 200, page.text
    found = SECRET.search(page.text)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    done = send(client, "enrol", page, base, code=pyotp.TOTP(secret).now())
    # POST, redirect, GET: the codes are on the page the redirect leads to, once.
    assert done.status_code == 303, done.text
    shown = client.get(done.headers["location"])
    codes = RECOVERY.findall(shown.text)
    assert len(codes) == 10
    assert RECOVERY.findall(client.get(done.headers["location"]).text) == []
    return secret, codes
