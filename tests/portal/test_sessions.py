"""One browser, several accounts' portals on one host: each keeps its own session."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.factories import Tenant

from .helpers import PASSWORD, form_token, log_in, post_form, shown_texts

ACME = "/portal/acme/"
GLOBEX = "/portal/globex/"


def test_two_accounts_portals_stay_logged_in_side_by_side(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, jansen: dict[str, Any]
) -> None:
    other_tenant.create_customer(
        name="Globex Garden", can_login=True, username="garden", password=PASSWORD, language="en"
    )

    assert log_in(client, ACME, "Jansen", PASSWORD).status_code == 303
    assert log_in(client, GLOBEX, "garden", PASSWORD).status_code == 303
    acme_page = client.get(ACME, follow_redirects=False)
    globex_page = client.get(GLOBEX, follow_redirects=False)

    assert acme_page.status_code == 200, acme_page.headers.get("location")
    assert "Welkom, Jansen Tuinmeubelen" in shown_texts(acme_page.text)
    assert globex_page.status_code == 200, globex_page.headers.get("location")
    assert "Welcome, Globex Garden" in shown_texts(globex_page.text)


def test_logging_out_of_one_account_keeps_the_other_logged_in(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, jansen: dict[str, Any]
) -> None:
    other_tenant.create_customer(
        name="Globex Garden", can_login=True, username="garden", password=PASSWORD, language="en"
    )
    log_in(client, ACME, "Jansen", PASSWORD)
    log_in(client, GLOBEX, "garden", PASSWORD)

    page = client.get(GLOBEX)
    assert post_form(client, GLOBEX, "logout", page).status_code == 303

    assert client.get(GLOBEX, follow_redirects=False).headers["location"] == f"{GLOBEX}login"
    assert client.get(ACME, follow_redirects=False).status_code == 200


def test_a_session_of_one_account_is_no_session_in_another(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, jansen: dict[str, Any]
) -> None:
    log_in(client, ACME, "Jansen", PASSWORD)

    answer = client.get(GLOBEX, follow_redirects=False)

    assert answer.headers["location"] == f"{GLOBEX}login"
    assert form_token(client.get(f"{GLOBEX}login").text)
    assert client.get(ACME, follow_redirects=False).status_code == 200
