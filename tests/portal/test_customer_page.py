"""The customer's own page: what the warehouse set up, changing the password, logging out."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.factories import CUSTOMERS, Tenant

from .helpers import PASSWORD, log_in, post_form, shown_texts

BASE = "/portal/acme/"
NEW_PASSWORD = "a new and longer one"


def test_the_page_shows_the_setup_by_name(client: TestClient, jansen: dict[str, Any]) -> None:
    log_in(client, BASE, "Jansen", PASSWORD)

    texts = shown_texts(client.get(BASE).text)

    for expected in [
        "Jansen Tuinmeubelen",
        "Jansen",
        "info@jansen.example",
        "Nederlands",
        "Main",  # the preferred warehouse
        "PostNL · Signature",  # the one allowed profile, not Standard
        "Default",  # the template
    ]:
        assert expected in texts, expected
    assert "PostNL · Standard" not in texts


def test_defaults_are_named_in_the_customer_language(
    client: TestClient, smith: dict[str, Any]
) -> None:
    log_in(client, BASE, "smith", PASSWORD)

    texts = shown_texts(client.get(BASE).text)

    assert "Not set" in texts  # no e-mail address
    assert "The default warehouse" in texts
    assert "All shipping profiles" in texts
    assert "Default (default)" in texts  # the account's default template, by name
    assert "English" in texts


def test_changing_the_password_needs_the_current_one_and_the_api_rules(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    log_in(client, BASE, "Jansen", PASSWORD)
    page = client.get(BASE)
    cases = [
        ("wrong current", NEW_PASSWORD, NEW_PASSWORD, "Uw huidige wachtwoord is onjuist."),
        (PASSWORD, "short", "short", "Het nieuwe wachtwoord moet minstens 8 tekens lang zijn."),
        (
            PASSWORD,
            "x" * 1025,
            "x" * 1025,
            "Het nieuwe wachtwoord mag hoogstens 1024 tekens lang zijn.",
        ),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "De nieuwe wachtwoorden zijn niet gelijk."),
    ]
    for current, new, again, message in cases:
        answer = post_form(
            client,
            BASE,
            "password",
            page,
            current_password=current,
            new_password=new,
            new_password_again=again,
        )
        assert answer.status_code == 400, message
        assert message in shown_texts(answer.text)

    # Nothing changed: the old password still logs in.
    assert log_in(TestClient(client.app), BASE, "Jansen", PASSWORD).status_code == 303


def test_a_new_password_replaces_the_old_one_and_ends_other_sessions(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    elsewhere = TestClient(client.app)
    log_in(elsewhere, BASE, "Jansen", PASSWORD)
    log_in(client, BASE, "Jansen", PASSWORD)

    answer = post_form(
        client,
        BASE,
        "password",
        client.get(BASE),
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        new_password_again=NEW_PASSWORD,
    )

    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert page.status_code == 200  # this session goes on
    assert "Uw wachtwoord is gewijzigd." in shown_texts(page.text)
    assert (
        elsewhere.get(BASE, follow_redirects=False)
        .headers["location"]
        .endswith("login?notice=ended")
    )
    fresh = TestClient(client.app)
    assert log_in(fresh, BASE, "Jansen", PASSWORD).status_code == 401
    assert log_in(fresh, BASE, "Jansen", NEW_PASSWORD).status_code == 303


def test_log_out_ends_the_session_even_for_a_copied_cookie(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    log_in(client, BASE, "Jansen", PASSWORD)
    copied = dict(client.cookies)

    answer = post_form(client, BASE, "logout", client.get(BASE))

    assert answer.status_code == 303
    assert answer.headers["location"] == f"{BASE}login?notice=logged-out"
    login_page = client.get(answer.headers["location"])
    assert "U bent uitgelogd." in shown_texts(login_page.text)
    assert client.get(BASE, follow_redirects=False).status_code == 303
    thief = TestClient(client.app, cookies=copied)
    assert thief.get(BASE, follow_redirects=False).status_code == 303


def test_the_api_ends_sessions_by_switching_login_off_or_changing_the_password(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any]
) -> None:
    path = f"{CUSTOMERS}/{jansen['idfulfilment_customer']}"
    for change in ({"password": "set by the warehouse"}, {"can_login": False}):
        log_in(client, BASE, "Jansen", PASSWORD if "password" in change else "set by the warehouse")
        assert client.get(BASE).status_code == 200

        assert tenant.put(path, change).status_code == 200

        ended = client.get(BASE, follow_redirects=False)
        assert ended.status_code == 303
        assert ended.headers["location"] == f"{BASE}login?notice=ended"
        page = client.get(ended.headers["location"])
        assert "Uw sessie is beëindigd. Log opnieuw in." in shown_texts(page.text)
    assert log_in(client, BASE, "Jansen", "set by the warehouse").status_code == 401


def test_an_api_change_of_language_shows_at_the_next_page(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any]
) -> None:
    log_in(client, BASE, "Jansen", PASSWORD)

    tenant.put(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}", {"language": "en"})

    assert "Welcome, Jansen Tuinmeubelen" in shown_texts(client.get(BASE).text)


def test_the_form_addresses_opened_as_pages_lead_back_without_acting(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    log_in(client, BASE, "Jansen", PASSWORD)

    for path in ("logout", "password"):
        answer = client.get(f"{BASE}{path}", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == BASE
    assert client.get(BASE).status_code == 200  # still logged in


def test_every_error_of_the_password_form_shows_in_one_round(
    client: TestClient, jansen: dict[str, Any]
) -> None:
    log_in(client, BASE, "Jansen", PASSWORD)
    home = client.get(BASE)
    refused = post_form(client, BASE, "password", home, current_password="wrong",
                        new_password="short", new_password_again="short")  # fmt: skip
    assert refused.status_code == 400
    assert refused.text.count('aria-invalid="true"') == 2
    assert '<a href="#current_password">Uw huidige wachtwoord is onjuist.</a>' in refused.text
    assert (
        '<a href="#new_password">Het nieuwe wachtwoord moet minstens 8 tekens lang zijn.</a>'
        in refused.text
    )
    assert "<title>Fout: " in refused.text
    # The browser's own checks are not relied on: they would speak its language.
    assert " required" not in refused.text
    assert "minlength" not in refused.text
    differ = post_form(client, BASE, "password", home, current_password=PASSWORD,
                       new_password="long enough", new_password_again="long enough 2")  # fmt: skip
    assert differ.status_code == 400
    assert 'id="new_password_again-error"' in differ.text
    assert log_in(TestClient(client.app), BASE, "Jansen", PASSWORD).status_code == 303
