"""`fulfilment customers list|get|create|update` against a server over TCP."""

from __future__ import annotations

import json

from fulfilment.client import Client
from tests.live import LiveAccount, LiveServer, free_port

from .conftest import Run


def create(run: Run, *args: str) -> dict[str, object]:
    result = run("create", *args, "--json")
    assert result.exit_code == 0, result.output
    created: dict[str, object] = json.loads(result.stdout)
    return created


def test_create_prints_the_new_customer_as_json(run: Run, account: LiveAccount) -> None:
    created = create(
        run,
        "--name", "Fulfilling Partners",
        "--can-login",
        "--username", "partners",
        "--password", "ue73hjdf893",
        "--email", "ops@partners.test",
        "--language", "en",
        "--template", str(account.template),
        "--warehouse", str(account.warehouse),
        "--shipping-profile", str(account.profiles[1]),
        "--shipping-profile", str(account.profiles[0]),
    )  # fmt: skip

    assert created == {
        "idfulfilment_customer": created["idfulfilment_customer"],
        "name": "Fulfilling Partners",
        "can_login": True,
        "username": "partners",
        "emailaddress": "ops@partners.test",
        "language": "en",
        "idtemplate": account.template,
        "last_login_at": None,
        "allowed_shipping_profiles": [account.profiles[1], account.profiles[0]],
        "preferred_idwarehouse": account.warehouse,
    }


def test_create_asks_for_the_password_when_told_to(
    run: Run, server: LiveServer, account: LiveAccount
) -> None:
    result = run(
        "create", "--name", "Acme", "--username", "acme", "--can-login", "--ask-password",
        input="a-secret-password\na-secret-password\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "a-secret-password" not in result.output
    with Client(server.url, api_key=account.key) as client:
        assert [c.can_login for c in client.customers.list()] == [True]


def test_get_shows_a_table_and_json(run: Run) -> None:
    created = create(run, "--name", "Acme BV", "--username", "acme")
    number = str(created["idfulfilment_customer"])

    table = run("get", number)
    as_json = run("get", number, "--json")

    assert table.exit_code == 0
    assert "Acme BV" in table.stdout
    assert "allowed_shipping_profiles" in table.stdout
    assert json.loads(as_json.stdout) == created


def test_update_changes_only_the_fields_given(run: Run, account: LiveAccount) -> None:
    created = create(
        run, "--name", "Acme", "--email", "a@acme.test", "--warehouse", str(account.warehouse)
    )
    number = str(created["idfulfilment_customer"])

    renamed = run("update", number, "--name", "Acme BV", "--json")
    cleared = run("update", number, "--no-email", "--no-warehouse", "--json")

    assert json.loads(renamed.stdout) == {**created, "name": "Acme BV"}
    assert json.loads(cleared.stdout) == {
        **created,
        "name": "Acme BV",
        "emailaddress": None,
        "preferred_idwarehouse": None,
    }


def test_update_without_changes_is_a_usage_error(run: Run) -> None:
    result = run("update", "1")

    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_list_shows_every_customer_in_a_table_and_as_a_json_array(run: Run) -> None:
    for number in range(120):
        create(run, "--name", f"Customer {number:03}")

    table = run("list")
    as_json = run("list", "--json")
    searched = run("list", "--json", "--search", "customer 11")

    assert table.exit_code == 0
    assert "Customer 000" in table.stdout
    assert "Customer 119" in table.stdout
    names = [item["name"] for item in json.loads(as_json.stdout)]
    assert names == [f"Customer {number:03}" for number in range(120)]
    assert [item["name"] for item in json.loads(searched.stdout)] == [
        f"Customer 11{n}" for n in range(10)
    ]


def test_an_empty_list_is_an_empty_json_array(run: Run) -> None:
    result = run("list", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_a_refused_body_exits_1_with_the_servers_message(run: Run) -> None:
    create(run, "--name", "Acme", "--username", "acme")

    taken = run("create", "--name", "Other", "--username", "ACME")
    no_password = run("create", "--name", "Other", "--can-login", "--username", "other")

    assert taken.exit_code == 1
    assert taken.stderr.strip() == (
        "Error: username 'ACME' is already used by another fulfilment customer. "
        "(HTTP 400, error_code 5)"
    )
    assert no_password.exit_code == 1
    assert "password is required when can_login is true" in no_password.stderr
    assert "Traceback" not in taken.output + no_password.output


def test_an_unknown_customer_exits_3(run: Run) -> None:
    result = run("get", "987654")

    assert result.exit_code == 3
    assert "Fulfilment customer 987654 not found." in result.stderr


def test_a_wrong_key_exits_4_without_printing_the_key(run: Run) -> None:
    result = run("list", FULFILMENT_API_KEY="fk_wrong-key-123")

    assert result.exit_code == 4
    assert "Unknown or revoked API key" in result.stderr
    assert "fk_wrong-key-123" not in result.output


def test_a_server_that_is_down_exits_5(run: Run) -> None:
    result = run("get", "1", FULFILMENT_URL=f"http://127.0.0.1:{free_port()}/api/v1/")

    assert result.exit_code == 5
    assert "Connection refused" in result.stderr
    assert "Traceback" not in result.output


def test_bad_input_exits_2_with_a_readable_message(run: Run) -> None:
    language = run("create", "--name", "Acme", "--language", "de")
    url = run("list", FULFILMENT_URL="ftp://example.test")
    missing = run("list", FULFILMENT_URL="")

    assert language.exit_code == 2
    assert "'de' is not one of 'nl', 'en'" in language.stderr
    assert url.exit_code == 2
    assert "is not an http:// or https:// URL" in url.stderr
    assert missing.exit_code == 2
    assert "--url" in missing.stderr


def test_url_and_key_can_be_given_as_options(
    run: Run, server: LiveServer, account: LiveAccount
) -> None:
    result = run(
        "list", "--json", "--url", server.url, "--api-key", account.key,
        FULFILMENT_URL="", FULFILMENT_API_KEY="",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_help_lists_the_exit_codes(run: Run) -> None:
    result = run("list", "--help")

    assert result.exit_code == 0
    assert "Exit codes:" in result.stdout
    assert "FULFILMENT_API_KEY" in result.stdout
