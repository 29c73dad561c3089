"""Every command of the operator's command line, against a real database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner, Result

from fulfilment import migrate
from fulfilment.cli import main
from fulfilment.db import Database
from fulfilment.settings import Settings
from tests.factories import status_within


@pytest.fixture
def run(database_url: str) -> Iterator[object]:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env={"FULFILMENT_DATABASE_URL": database_url})

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_db_upgrade_is_idempotent(run) -> None:  # type: ignore[no-untyped-def]
    ok(run("db", "upgrade"))
    ok(run("db", "upgrade"))


def test_commands_refuse_a_schema_that_is_behind_and_leave_it(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    database = Database(Settings(database_url=database_url))
    migrate.upgrade(database, "0004")
    environ = {"FULFILMENT_DATABASE_URL": database_url}

    result = CliRunner().invoke(
        main, ["accounts", "create", "Acme", "--subdomain", "acme"], env=environ
    )

    assert result.exit_code == 1
    assert (
        "The database schema is behind this version: run `fulfilment db upgrade`." in result.output
    )
    with database.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == ("0004",)
    ok(CliRunner().invoke(main, ["db", "upgrade"], env=environ))
    ok(CliRunner().invoke(main, ["accounts", "create", "Acme", "--subdomain", "acme"], env=environ))
    database.close()


def test_accounts_and_reference_data(run) -> None:  # type: ignore[no-untyped-def]
    account = json.loads(ok(run("accounts", "create", "Acme Fulfilment", "--subdomain", "acme")))
    assert account["subdomain"] == "acme"
    assert account["timezone"] == "Europe/Amsterdam"

    warehouse = json.loads(
        ok(run("warehouses", "create", "--account", "acme", "--name", "Venlo", "--priority", "2"))
    )
    assert warehouse == {
        "idwarehouse": warehouse["idwarehouse"],
        "name": "Venlo",
        "accept_orders": True,
        "counts_for_general_stock": True,
        "priority": 2,
        "active": True,
    }
    template = json.loads(
        ok(run("templates", "create", "--account", "acme", "--name", "Slip", "--default"))
    )
    assert template["default"] is True
    provider = json.loads(
        ok(
            run(
                "shippingproviders",
                "create",
                "--account",
                "acme",
                "--name",
                "PostNL",
                "--provider",
                "PostNL",
                "--profile",
                "Standard",
                "--profile",
                "Signature",
            )
        )
    )
    assert [p["name"] for p in provider["profiles"]] == ["Standard", "Signature"]


def test_errors_are_messages_not_tracebacks(run) -> None:  # type: ignore[no-untyped-def]
    ok(run("accounts", "create", "Acme", "--subdomain", "acme"))

    for result in (
        run("accounts", "create", "Acme again", "--subdomain", "acme"),
        run("accounts", "create", "Bad", "--subdomain", "Not Valid!"),
        run("accounts", "create", "Bad", "--subdomain", "zoned", "--timezone", "Mars/Olympus"),
        run("accounts", "create", "Bad\nBcc: evil@x.test", "--subdomain", "broken"),
        run("accounts", "create", "=?utf-8?q?x=0ABcc:_evil@x.test?=", "--subdomain", "encoded"),
        run("apikeys", "create", "--account", "nobody"),
        run("warehouses", "create", "--account", "acme", "--name", "   "),
        run("apikeys", "create", "--account", "acme", "--fulfilment-customer", "424242"),
    ):
        assert result.exit_code == 1
        assert "Error:" in result.output
        assert "Traceback" not in result.output
    broken = run("accounts", "create", "Bad\u2028BV", "--subdomain", "broken")
    assert "name may not contain control or invisible characters (U+2028)." in broken.output


def test_api_keys_are_printed_alone_and_can_be_revoked(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from fulfilment.app import create_app
    from fulfilment.settings import Settings

    ok(run("accounts", "create", "Acme", "--subdomain", "acme"))
    first = ok(run("apikeys", "create", "--account", "acme", "--name", "erp")).strip()
    second = ok(run("apikeys", "create", "--account", "acme")).strip()
    assert first.startswith("fk_")
    assert len(first) > 40
    assert ok(run("apikeys", "create", "--account", "acme")).count("\n") == 1

    listing = ok(run("apikeys", "list", "--account", "acme"))
    assert "erp" in listing
    assert first not in listing

    with TestClient(create_app(Settings(database_url=database_url))) as client:
        url = "/api/v1/fulfilment/customers"
        assert client.get(url, auth=(first, "X")).status_code == 200
        ok(run("apikeys", "revoke", "--account", "acme", "1"))
        assert status_within(lambda: client.get(url, auth=(first, "X")), 401) == 401
        assert client.get(url, auth=(second, "X")).status_code == 200
        ok(run("apikeys", "revoke", "--key", second))
        assert status_within(lambda: client.get(url, auth=(second, "X")), 401) == 401
    assert run("apikeys", "revoke", "--key", second).exit_code == 1


def test_scoped_keys_from_the_command_line(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from fulfilment.app import create_app
    from fulfilment.settings import Settings

    ok(run("accounts", "create", "Acme", "--subdomain", "acme"))
    key = ok(run("apikeys", "create", "--account", "acme")).strip()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        created = client.post("/api/v1/fulfilment/customers", json={"name": "Own"}, auth=(key, ""))
        customer_id = str(created.json()["idfulfilment_customer"])
        scoped = ok(
            run("apikeys", "create", "--account", "acme", "--fulfilment-customer", customer_id)
        ).strip()
        assert client.get("/api/v1/fulfilment/customers", auth=(scoped, "")).status_code == 403


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_over_tcp(tmp_path: Path) -> None:
    env = {**os.environ, "FULFILMENT_DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}"}
    fulfilment = [sys.executable, "-m", "fulfilment.cli"]
    subprocess.run([*fulfilment, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*fulfilment, "accounts", "create", "Acme", "--subdomain", "acme"],
        env=env,
        check=True,
        capture_output=True,
    )
    key = subprocess.run(
        [*fulfilment, "apikeys", "create", "--account", "acme"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [*fulfilment, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/fulfilment/customers"
        # What a client of `http://acme.localhost:{port}/api/v1/` sends; *.localhost names
        # need not resolve on every machine, so connect to the address directly.
        host = {"Host": f"acme.localhost:{port}"}
        # Waits for the server to listen: a condition, with a limit only a broken start hits.
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = httpx.post(
                    url, json={"name": "Over TCP"}, auth=(key, "X"), headers=host, timeout=30
                )
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert answer.status_code == 200
        assert httpx.get(url, auth=(key, "X"), headers=host).json()[0]["name"] == "Over TCP"
        other = {"Host": f"globex.localhost:{port}"}
        assert httpx.get(url, auth=(key, "X"), headers=other).status_code == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
