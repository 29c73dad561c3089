"""What the command lines print: tables whole when piped, and every time in the account's
time zone with the zone named (the API's wire format stays as it is)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import msgspec
from click.testing import CliRunner

from fulfilment.cli import main
from fulfilment.client import Client
from tests.live import LiveAccount, LiveServer
from tests.portal.helpers import log_in

from .conftest import Run

LONG_EMAIL = "anna.de.vries-van.der.berg@logistics-department.fulfilling-partners.example"
LABELLED = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) ([A-Z]{3,4})")


def _piped(server: LiveServer, account: LiveAccount, *args: str) -> str:
    """A command in a process of its own, its standard output a pipe (no terminal, no
    COLUMNS), as in `fulfilment customers list | grep ...`."""
    environ = {
        **os.environ,
        "FULFILMENT_URL": server.url,
        "FULFILMENT_API_KEY": account.key,
    }
    environ.pop("COLUMNS", None)
    result = subprocess.run(
        [sys.executable, "-m", "fulfilment.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_piped_table_is_never_cut(server: LiveServer, account: LiveAccount) -> None:
    with Client(server.url, api_key=account.key) as client:
        client.customers.create(
            name="Fulfilling Partners Logistics BV", username="partners", emailaddress=LONG_EMAIL
        )

    listing = _piped(server, account, "customers", "list")

    [row] = [line for line in listing.splitlines() if "partners" in line]
    assert "Fulfilling Partners Logistics BV" in row
    assert LONG_EMAIL in row
    assert "…" not in listing


def _wire_to_utc(text: str, zone: str) -> datetime:
    local = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def test_customer_times_are_the_accounts_and_labelled(
    run: Run, server: LiveServer, account: LiveAccount
) -> None:
    with Client(server.url, api_key=account.key) as client:
        created = client.customers.create(
            name="Acme", username="acme", password="a-long-password", can_login=True
        )
        base = f"http://127.0.0.1:{server.port}/portal/{account.subdomain}/"
        with httpx.Client() as browser:
            assert log_in(browser, base, "acme", "a-long-password").status_code == 303  # type: ignore[arg-type]
        wire = client.customers.get(created.idfulfilment_customer).last_login_at
        assert client.time_zone == "Europe/Amsterdam"
    assert wire is not None

    shown = run("get", str(created.idfulfilment_customer))

    [line] = [line for line in shown.stdout.splitlines() if "last_login_at" in line]
    found = LABELLED.search(line)
    assert found is not None, line
    moment = _wire_to_utc(wire, "Europe/Amsterdam")
    assert found.groups() == (wire, moment.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%Z"))
    listed = run("list")
    assert f"{wire} {found.group(2)}" in listed.stdout


def test_api_keys_list_shows_times_in_the_accounts_zone(database_url: str) -> None:
    runner = CliRunner()
    environ = {"FULFILMENT_DATABASE_URL": database_url}

    def ok(*args: str) -> str:
        result = runner.invoke(main, list(args), env=environ)
        assert result.exit_code == 0, result.output
        return result.stdout

    ok("accounts", "create", "Gotham", "--subdomain", "gotham", "--timezone", "America/New_York")
    before = datetime.now(UTC).replace(microsecond=0)
    ok("apikeys", "create", "--account", "gotham", "--name", "erp")

    listing = ok("apikeys", "list", "--account", "gotham")

    [row] = [line for line in listing.splitlines() if "erp" in line]
    found = LABELLED.search(row)
    assert found is not None, row
    created = _wire_to_utc(found.group(1), "America/New_York")
    assert before <= created <= datetime.now(UTC)
    assert found.group(2) == created.astimezone(ZoneInfo("America/New_York")).strftime("%Z")


def test_history_shows_who_changed_what_and_when(
    run: Run, server: LiveServer, account: LiveAccount
) -> None:
    with Client(server.url, api_key=account.key) as client:
        created = client.customers.create(name="Acme", language="en")
        number = created.idfulfilment_customer
        client.customers.update(number, name="Acme BV", emailaddress="ops@acme.example")
        events = list(client.customers.history(number))

    table = run("history", str(number))
    as_json = run("history", str(number), "--json")
    missing = run("history", str(number + 1000))

    assert table.exit_code == 0, table.output
    rows = table.stdout
    assert 'name: "Acme" → "Acme BV"' in rows
    assert 'emailaddress: null → "ops@acme.example"' in rows
    assert "API key tests" in rows
    assert [line.split("│")[2].strip() for line in rows.splitlines() if "API key" in line] == [
        "create",
        "update",
    ]
    assert len(LABELLED.findall(rows)) == 2
    assert json.loads(as_json.stdout) == [msgspec.to_builtins(event) for event in events]
    assert missing.exit_code == 3
