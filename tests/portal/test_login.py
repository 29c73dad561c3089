"""Logging in: where, what it records, and that a refusal tells nothing about usernames."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.settings import Settings
from tests.factories import CUSTOMERS, Tenant

from .helpers import PASSWORD, log_in, shown_texts

BASE = "/portal/acme/"
REFUSED_NL = "De gebruikersnaam of het wachtwoord is onjuist."


@pytest.mark.pgbouncer
def test_login_leads_to_the_customer_page_and_sets_last_login_at(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any]
) -> None:
    assert jansen["last_login_at"] is None

    answer = log_in(client, BASE, "jansen", PASSWORD)  # usernames ignore case, as in the API

    assert answer.status_code == 303
    assert answer.headers["location"] == BASE
    seen = tenant.get(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}").json()
    assert seen["last_login_at"] is not None
    page = client.get(BASE)
    assert page.status_code == 200
    assert "Welkom, Jansen Tuinmeubelen" in shown_texts(page.text)


def test_the_login_form_of_a_logged_in_customer_leads_to_its_page(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    log_in(client, BASE, "Jansen", PASSWORD)

    answer = client.get(f"{BASE}login", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == BASE


def test_wrong_password_unknown_username_and_no_login_get_the_same_answer(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any]
) -> None:
    tenant.create_customer(name="Locked", can_login=False, username="locked", password=PASSWORD)

    answers = [
        log_in(client, BASE, "Jansen", "not the password"),
        log_in(client, BASE, "nobody", PASSWORD),
        log_in(client, BASE, "locked", PASSWORD),
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 401]
    for answer in answers:
        assert REFUSED_NL in shown_texts(answer.text)
        assert "set-cookie" in answer.headers
    bodies = {
        answer.text.replace(username, "USERNAME")
        for answer, username in zip(answers, ["Jansen", "nobody", "locked"], strict=True)
    }
    tokens_removed = {body.split('name="csrf_token"')[0] for body in bodies}
    assert len(tokens_removed) == 1
    seen = tenant.get(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}").json()
    assert seen["last_login_at"] is None


@pytest.mark.serial  # it compares how long answers take
def test_refusals_take_the_same_time_whether_or_not_the_username_exists(
    settings: Settings, tenant: Tenant, jansen: dict[str, Any]
) -> None:
    tenant.create_customer(name="Locked", can_login=False, username="locked", password=PASSWORD)
    unthrottled = replace(
        settings, portal_login_limit_per_username="off", portal_login_limit_per_address="off"
    )
    timings: dict[str, list[float]] = {"wrong password": [], "unknown": [], "no login": []}
    attempts = {"wrong password": ("Jansen", "wrong"), "unknown": ("nobody", "wrong")}
    attempts["no login"] = ("locked", PASSWORD)
    with TestClient(create_app(unthrottled)) as client:
        for _ in range(5):
            for case, (username, password) in attempts.items():
                form = client.get(f"{BASE}login")
                token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
                started = time.perf_counter()
                answer = client.post(
                    f"{BASE}login",
                    data={"csrf_token": token, "username": username, "password": password},
                )
                timings[case].append(time.perf_counter() - started)
                assert answer.status_code == 401

    medians = {case: statistics.median(values) for case, values in timings.items()}
    # Each refusal spends one argon2id verification (tens of milliseconds); skipping it for
    # an unknown username would make that case many times faster.
    assert max(medians.values()) < 3 * min(medians.values()), medians


def test_the_account_host_serves_its_portal_at_slash_portal(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    headers = {"host": "acme.localhost:8000"}

    form = client.get("/portal/login", headers=headers)
    answer = log_in(client, "/portal/", "Jansen", PASSWORD, **headers)

    assert form.status_code == 200
    assert "Inloggen bij Acme BV" in shown_texts(form.text)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/"
    assert client.get("/portal/", headers=headers).status_code == 200


def test_addresses_without_a_portal_answer_404_pages(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    cases = [
        ("/portal/login", "localhost:8000"),  # no account in the host
        ("/portal/login", "www.example.com"),  # a subdomain that is no account's
        ("/portal/nosuchaccount/login", "localhost"),
        ("/portal/acme/login", "globex.localhost"),  # another account's host
        ("/portal/acme/nosuchpage", "localhost"),
    ]
    for path, host in cases:
        answer = client.get(path, headers={"host": host, "accept-language": "en"})
        assert answer.status_code == 404, (path, host)
        assert answer.headers["content-type"].startswith("text/html"), (path, host)
        assert answer.headers["x-frame-options"] == "DENY"
    assert client.get("/portal/acme/login", headers={"host": "acme.localhost"}).status_code == 200


def test_a_visitor_chooses_the_language_before_logging_in(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    by_browser = client.get(f"{BASE}login", headers={"accept-language": "en-GB,en;q=0.8"})
    chosen = client.get(f"{BASE}login?lang=nl", headers={"accept-language": "en-GB"})
    kept = client.get(f"{BASE}login", headers={"accept-language": "en-GB"})

    assert "Log in to Acme BV" in shown_texts(by_browser.text)
    assert 'lang="en"' in by_browser.text
    assert "Inloggen bij Acme BV" in shown_texts(chosen.text)
    assert "Inloggen bij Acme BV" in shown_texts(kept.text)  # the choice is remembered


def test_after_login_the_customer_language_decides(
    client: TestClient, smith: dict[str, Any]
) -> None:
    client.get(f"{BASE}login?lang=nl")

    log_in(client, BASE, "smith", PASSWORD)
    page = client.get(BASE)

    assert "Welcome, Smith & Daughters" in shown_texts(page.text)
    assert '<html lang="en">' in page.text
