"""The portal's defences: throttled logins, form tokens, cookies and headers."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from fulfilment.web.sessions import cookie_name
from tests.factories import Tenant

from .helpers import PASSWORD, form_token, log_in, post_form, shown_texts

BASE = "/portal/acme/"
TOO_MANY = "Too many failed attempts. Try again after "
REDIS_URL = "redis://127.0.0.1:6379/0"
AppWith = Callable[..., TestClient]


def test_failed_logins_are_throttled_per_username(
    app_with: AppWith, jansen: dict[str, Any], smith: dict[str, Any]
) -> None:
    client = app_with(
        portal_login_limit_per_username="3/15 minutes",
        portal_login_limit_per_address="100/15 minutes",
    )
    english = {"accept-language": "en"}
    for _ in range(3):
        assert log_in(client, BASE, "Jansen", "wrong", **english).status_code == 401

    # Refused before the password is looked at, even the right one, in any letter case.
    refused = log_in(client, BASE, "JANSEN", PASSWORD, **english)

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert any(text.startswith(TOO_MANY) for text in shown_texts(refused.text))
    # A clock time in the account's zone, labelled with it.
    assert any(
        re.fullmatch(re.escape(TOO_MANY) + r"\d\d:\d\d (CET|CEST)\.", text)
        for text in shown_texts(refused.text)
    )
    # Another username from the same address is not held back.
    assert log_in(client, BASE, "smith", PASSWORD).status_code == 303


def test_failed_logins_are_throttled_per_address(app_with: AppWith, jansen: dict[str, Any]) -> None:
    client = app_with(
        portal_login_limit_per_username="100/15 minutes",
        portal_login_limit_per_address="3/15 minutes",
    )
    for username in ["a", "b", "c"]:
        assert log_in(client, BASE, username, "wrong").status_code == 401

    refused = log_in(client, BASE, "Jansen", PASSWORD)

    assert refused.status_code == 429
    assert any(text.startswith("Te veel mislukte pogingen.") for text in shown_texts(refused.text))


def test_a_successful_login_clears_the_username_failures(
    app_with: AppWith, jansen: dict[str, Any]
) -> None:
    client = app_with(
        portal_login_limit_per_username="3/15 minutes",
        portal_login_limit_per_address="100/15 minutes",
    )
    for _ in range(2):
        log_in(client, BASE, "Jansen", "wrong")
    assert log_in(client, BASE, "Jansen", PASSWORD).status_code == 303
    other = TestClient(client.app)
    for _ in range(2):
        assert log_in(other, BASE, "Jansen", "wrong").status_code == 401

    assert log_in(other, BASE, "Jansen", PASSWORD).status_code == 303


def test_wrong_current_passwords_count_as_failed_logins(
    app_with: AppWith, jansen: dict[str, Any]
) -> None:
    client = app_with(
        portal_login_limit_per_username="2/15 minutes",
        portal_login_limit_per_address="100/15 minutes",
    )
    log_in(client, BASE, "Jansen", PASSWORD)
    page = client.get(BASE)
    for _ in range(2):
        post_form(
            client,
            BASE,
            "password",
            page,
            current_password="guess",
            new_password="whatever1",
            new_password_again="whatever1",
        )

    assert log_in(TestClient(client.app), BASE, "Jansen", PASSWORD).status_code == 429


# A Redis call slower than its time limit (a starved core) moves the counting into the
# process, as it must: run alone, the test counts in Redis throughout.
@pytest.mark.serial
def test_the_throttle_is_shared_through_redis(app_with: AppWith, tenant: Tenant) -> None:
    # A username of its own, so that runs at the same time do not share counters.
    username = f"shared-{uuid.uuid4().hex[:12]}"
    tenant.create_customer(name="Shared", can_login=True, username=username, password=PASSWORD)
    limits = {
        "redis_url": REDIS_URL,
        "portal_login_limit_per_username": "2/15 minutes",
        "portal_login_limit_per_address": "off",
    }
    first = app_with(**limits)
    second = app_with(**limits)

    assert log_in(first, BASE, username, "wrong").status_code == 401
    assert log_in(second, BASE, username, "wrong").status_code == 401

    assert log_in(first, BASE, username, PASSWORD).status_code == 429
    assert log_in(second, BASE, username, PASSWORD).status_code == 429


def test_forms_without_the_session_token_are_refused(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    stranger = TestClient(client.app)
    forged_login = stranger.post(
        f"{BASE}login",
        data={"csrf_token": "guessed", "username": "Jansen", "password": PASSWORD},
        follow_redirects=False,
    )
    log_in(client, BASE, "Jansen", PASSWORD)
    token = form_token(client.get(BASE).text)
    fields = {
        "current_password": PASSWORD,
        "new_password": "x" * 10,
        "new_password_again": "x" * 10,
    }

    without = client.post(f"{BASE}password", data=fields, follow_redirects=False)
    wrong = client.post(
        f"{BASE}password", data={**fields, "csrf_token": token[:-2] + "xx"}, follow_redirects=False
    )
    logout = client.post(f"{BASE}logout", data={}, follow_redirects=False)

    assert forged_login.status_code == 400
    assert "Het formulier is verlopen. Probeer het opnieuw." in shown_texts(forged_login.text)
    assert [without.status_code, wrong.status_code, logout.status_code] == [400, 400, 400]
    assert client.get(BASE).status_code == 200  # still logged in, password unchanged
    assert log_in(TestClient(client.app), BASE, "Jansen", PASSWORD).status_code == 303


def test_the_form_token_changes_at_login(client: TestClient, jansen: dict[str, Any]) -> None:
    before = form_token(client.get(f"{BASE}login").text)

    log_in(client, BASE, "Jansen", PASSWORD)

    assert form_token(client.get(BASE).text) != before


def test_the_session_cookie_is_signed_httponly_samesite_and_expires(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any]
) -> None:
    answer = log_in(client, BASE, "Jansen", PASSWORD)

    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(tenant.account.id)}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/portal" in cookie
    assert "Max-Age=28800" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    value = client.cookies[cookie_name(tenant.account.id)]
    assert PASSWORD not in value
    payload, _, signature = value.partition(".")
    tampered = TestClient(
        client.app, cookies={cookie_name(tenant.account.id): payload + "." + signature[::-1]}
    )
    assert tampered.get(BASE, follow_redirects=False).headers["location"] == f"{BASE}login"


def test_cookies_are_secure_over_https_and_when_told(
    client: TestClient, app_with: AppWith, jansen: dict[str, Any]
) -> None:
    over_https = TestClient(client.app, base_url="https://testserver")
    behind_proxy = app_with(portal_secure_cookies="always")

    for secure in (over_https, behind_proxy):
        assert "; Secure" in log_in(secure, BASE, "Jansen", PASSWORD).headers["set-cookie"]
    assert "max-age" in over_https.get(f"{BASE}login").headers["strict-transport-security"]


def test_an_expired_session_is_over(
    app_with: AppWith, tenant: Tenant, jansen: dict[str, Any]
) -> None:
    client = app_with(portal_session_seconds=60)
    log_in(client, BASE, "Jansen", PASSWORD)
    signer = client.app.state.portal.signer
    session = signer.loads(client.cookies[cookie_name(tenant.account.id)])
    assert session is not None
    assert session.logged_in
    session.expires = int(time.time()) - 1
    client.cookies.set(cookie_name(tenant.account.id), signer.dumps(session), path="/portal")

    assert client.get(BASE, follow_redirects=False).headers["location"] == f"{BASE}login"


def test_every_page_carries_the_security_headers(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    pages = [client.get(f"{BASE}login"), client.get(f"{BASE}nosuchpage")]
    log_in(client, BASE, "Jansen", PASSWORD)
    pages.append(client.get(BASE))

    for page in pages:
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "form-action 'self'" in policy
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
    assert client.get("/portal/portal.css").headers["content-type"].startswith("text/css")


def test_forms_that_cannot_be_read_get_a_page_not_a_fault(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    token = form_token(client.get(f"{BASE}login").text)
    answers = [
        client.post(
            f"{BASE}login",
            content=b"username=%ff",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        client.post(f"{BASE}login", json={"csrf_token": token}),
        client.post(f"{BASE}login", data={"csrf_token": token, "padding": "x" * 20000}),
    ]

    for answer in answers:
        assert answer.status_code == 400
        assert "Het formulier kon niet worden gelezen." in shown_texts(answer.text)
