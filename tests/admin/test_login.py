"""Logging in to the back office: password, throttling, sessions, form tokens and the second
factor (TOTP codes and recovery codes), on both backends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyotp
from click.testing import CliRunner
from starlette.testclient import TestClient

from fulfilment.cli import main
from fulfilment.staff.schemas import User
from fulfilment.web.sessions import cookie_name
from tests.factories import API, Tenant
from tests.portal.helpers import shown_texts

from .helpers import BASE, PASSWORD, enrol, log_in, send

WRONG = "The username or password is not correct."


def _api_user(tenant: Tenant, user: User) -> dict[str, Any]:
    answer: dict[str, Any] = tenant.get(f"{API}/users/{user.iduser}").json()
    return answer


def test_a_login_opens_the_customers_and_sets_last_login(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    assert _api_user(tenant, anna)["last_login_at"] is None
    answer = log_in(client, "ANNA")
    assert answer.status_code == 303
    assert answer.headers["location"] == BASE
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(cookie_name(tenant.account.id, "admin") + "=")
    assert "Path=/admin" in cookie
    assert "HttpOnly" in cookie
    page = client.get(f"{BASE}customers")
    assert page.status_code == 200
    assert "Logged in as Anna Smit" in page.text
    assert _api_user(tenant, anna)["last_login_at"] is not None
    headers = page.headers
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


def test_wrong_password_unknown_user_and_deactivated_user_get_one_answer(
    client: TestClient, tenant: Tenant, anna: User, piet: User, database_url: str
) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "deactivate", "--account", "acme", "piet"],
        env={"FULFILMENT_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    answers = [
        log_in(client, "anna", "wrong one"),
        log_in(client, "nobody"),
        log_in(client, "piet"),
    ]
    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert all(WRONG in shown_texts(answer.text) for answer in answers)
    assert client.get(f"{BASE}customers", follow_redirects=False).status_code == 303


def test_the_login_is_throttled_per_username_and_address(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    answers = [log_in(client, "anna", f"guess {n}") for n in range(6)]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    # The right password too, until the window has passed.
    assert log_in(client, "anna").status_code == 429


def test_a_form_without_its_token_changes_nothing(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    refused = client.post(
        f"{BASE}login",
        data={"username": "anna", "password": PASSWORD, "language": "en"},
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert "The form has expired. Please try again." in shown_texts(refused.text)
    assert log_in(client, "anna").status_code == 303
    forged = client.post(
        f"{BASE}customers/new",
        data={"csrf_token": "forged", "name": "Forged BV"},
        follow_redirects=False,
    )
    assert forged.status_code == 400
    assert tenant.get(f"{API}/fulfilment/customers").json() == []
    settings = client.post(
        f"{BASE}settings", data={"require_second_factor": "1"}, follow_redirects=False
    )
    assert settings.status_code == 400


def test_a_cookie_of_the_portal_is_no_back_office_session(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    log_in(client, "anna")
    value = client.cookies.get(cookie_name(tenant.account.id, "admin"), path="/admin")
    assert value
    other = TestClient(client.app)
    other.cookies.set(cookie_name(tenant.account.id, "portal"), value, path="/admin")
    assert other.get(f"{BASE}customers", follow_redirects=False).status_code == 303


def test_the_own_host_and_another_accounts_host(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, anna: User
) -> None:
    own = client.get("/admin/login?lang=en", headers={"host": "acme.localhost:8000"})
    assert own.status_code == 200
    assert "Log in to the back office of Acme BV" in own.text
    other_host = {"host": f"{other_tenant.account.subdomain}.localhost"}
    assert client.get(f"{BASE}login", headers=other_host).status_code == 404
    assert client.get("/admin/login", headers={"host": "localhost"}).status_code == 404


def test_totp_enrolment_and_a_login_with_a_code(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    log_in(client, "anna")
    settings = client.get(f"{BASE}settings")
    assert "Two-step verification is off." in settings.text
    secret, codes = enrol(client)
    assert len(set(codes)) == 10
    assert "Recovery codes left: 10" in client.get(f"{BASE}settings").text
    send(client, "logout", client.get(f"{BASE}settings"))

    answer = log_in(client, "anna")
    assert answer.headers["location"] == f"{BASE}second-factor"
    # The password alone opens nothing.
    assert client.get(f"{BASE}customers", follow_redirects=False).status_code == 303
    page = client.get(f"{BASE}second-factor")
    wrong = send(client, "second-factor", page, code="000000")
    assert wrong.status_code == 401
    assert "The code is not correct." in shown_texts(wrong.text)
    # The enrolment used this time step's code: the next step's (one step of clock drift is
    # allowed) is a code not used yet.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert send(client, "second-factor", page, code=code).status_code == 303
    assert client.get(f"{BASE}customers").status_code == 200

    # The same code a second time is refused: a code is good once.
    client.cookies.clear()
    log_in(client, "anna")
    page = client.get(f"{BASE}second-factor")
    assert send(client, "second-factor", page, code=code).status_code == 401


def test_a_recovery_code_works_once(client: TestClient, tenant: Tenant, anna: User) -> None:
    log_in(client, "anna")
    _, codes = enrol(client)
    client.cookies.clear()
    for expected in (303, 401):
        client.cookies.clear()
        log_in(client, "anna")
        page = client.get(f"{BASE}second-factor")
        assert send(client, "second-factor", page, code=codes[3].lower()).status_code == expected
    log_in(client, "anna")
    page = client.get(f"{BASE}second-factor")
    assert send(client, "second-factor", page, code=codes[4]).status_code == 303
    assert "Recovery codes left: 8" in client.get(f"{BASE}settings").text


def test_an_account_that_requires_a_second_factor(
    client: TestClient, tenant: Tenant, anna: User, piet: User
) -> None:
    log_in(client, "piet")
    settings = client.get(f"{BASE}settings")
    refused = send(client, "settings", settings, require_second_factor="1")
    assert refused.status_code == 403
    assert "Only administrators can change these settings." in shown_texts(refused.text)
    client.cookies.clear()

    log_in(client, "anna")
    settings = client.get(f"{BASE}settings")
    saved = send(client, "settings", settings, require_second_factor="1")
    assert saved.headers["location"] == f"{BASE}settings?notice=settings-saved"
    client.cookies.clear()

    # Piet has no second factor yet: he sets one up before anything else.
    answer = log_in(client, "piet")
    assert answer.headers["location"] == f"{BASE}enrol"
    assert client.get(f"{BASE}customers", follow_redirects=False).status_code == 303
    page = client.get(f"{BASE}enrol")
    assert "Dit account vereist verificatie in twee stappen voor elke medewerker." in page.text
    enrol(client)
    assert client.get(f"{BASE}customers").status_code == 200


def test_reset_2fa_ends_the_sessions_and_the_user_enrols_again(
    client: TestClient, tenant: Tenant, anna: User, database_url: str
) -> None:
    log_in(client, "anna")
    enrol(client)
    assert client.get(f"{BASE}customers").status_code == 200
    run: Callable[..., Any] = CliRunner().invoke
    result = run(
        main,
        ["users", "reset-2fa", "--account", "acme", "anna"],
        env={"FULFILMENT_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    ended = client.get(f"{BASE}customers", follow_redirects=False)
    assert ended.headers["location"] == f"{BASE}login?notice=ended"
    assert log_in(client, "anna").headers["location"] == BASE
    assert "Two-step verification is off." in client.get(f"{BASE}settings").text


def test_second_factor_codes_are_throttled_like_passwords(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    log_in(client, "anna")
    secret, _ = enrol(client)
    client.cookies.clear()
    log_in(client, "anna")
    page = client.get(f"{BASE}second-factor")
    answers = [send(client, "second-factor", page, code=f"00000{n}") for n in range(6)]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    # A right code is refused too until the window has passed.
    right = send(client, "second-factor", page, code=pyotp.TOTP(secret).at(time.time() + 30))
    assert right.status_code == 429
    assert client.get(f"{BASE}customers", follow_redirects=False).status_code == 303


def test_the_stylesheet_is_the_services_own(client: TestClient) -> None:
    answer = client.get("/admin/admin.css")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")
    assert "url(" not in answer.text
    assert "@import" not in answer.text
