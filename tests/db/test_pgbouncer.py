"""The service behind a stock PgBouncer in transaction pooling mode (no
`ignore_startup_parameters`, no prepared statements kept across transactions): the command
line and migrations, two instances with pools larger than PgBouncer's under parallel load
(the API, the portal, the back office, webhook deliveries, mail), statement time limits
set per transaction, and API key changes seen with and without a direct connection."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.accounts import service as accounts
from fulfilment.app import create_app
from fulfilment.db import Connection, Database, Query
from fulfilment.settings import Settings
from tests.conftest import POSTGRES_SERVER_URL, _empty_postgres
from tests.factories import make_tenant, status_within
from tests.hooks.receiver import Receiver
from tests.mail.smtp import Inbox, smtp_server
from tests.servers import FULFILMENT, PgBouncer, new_account, run_cli, running_server

CUSTOMERS = "/api/v1/fulfilment/customers"
PASSWORD = "correct horse 1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ENCRYPTION_KEY = "k" * 32


class Slept(NamedTuple):
    slept: None


class Setting(NamedTuple):
    value: str


SLEEP = Query(sa.select(sa.func.pg_sleep(3).label("slept")), Slept)
SHOW_TIMEOUT = Query(
    sa.select(sa.func.current_setting("statement_timeout").label("value")), Setting
)


@pytest.fixture
def bouncer() -> Iterator[PgBouncer]:
    """A PgBouncer of this test's own, so that its log holds this test's lines only: three
    server connections, shared by every client."""
    bouncer = PgBouncer(POSTGRES_SERVER_URL, pool_size=3)
    bouncer.start()
    yield bouncer
    bouncer.stop()


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A PostgreSQL database with no tables yet: its direct URL."""
    server = sa.make_url(POSTGRES_SERVER_URL).set(drivername="postgresql+psycopg")
    name = f"fulfilment_bouncer_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_migrations_and_the_command_line_run_through_pgbouncer(
    bouncer: PgBouncer, empty_database: str
) -> None:
    env = {"FULFILMENT_DATABASE_URL": bouncer.url(empty_database)}

    key = new_account(env)
    run_cli(env, "db", "upgrade")  # once more: nothing to do

    assert key.startswith("fk_")
    with running_server(env) as server:
        answer = httpx.get(f"{server.url}/api/v1/warehouses", auth=(key, "X"))
    assert answer.status_code == 200
    assert [warehouse["name"] for warehouse in answer.json()] == ["Main"]
    assert bouncer.error_lines() == []


def test_a_statement_time_limit_is_set_per_transaction_through_pgbouncer(
    pgbouncer: PgBouncer, postgres_database: str
) -> None:
    database = Database(
        Settings(database_url=pgbouncer.url(postgres_database), statement_timeout_seconds=1)
    )

    async def sleep(connection: Connection) -> Slept | None:
        return await connection.one(SLEEP, {})

    async def timeout(connection: Connection) -> Setting | None:
        return await connection.one(SHOW_TIMEOUT, {})

    async def scenario() -> tuple[float, str, str]:
        await database.start()
        try:
            started = time.monotonic()
            with pytest.raises(psycopg.errors.QueryCanceled):
                await database.read(sleep)
            ended_after = time.monotonic() - started
            with pytest.raises(psycopg.errors.QueryCanceled):
                await database.write(sleep)
            # Nothing of it stays on the server connections other clients are given next.
            session_value = await database.read(timeout)
            engine = sa.create_engine(
                sa.make_url(pgbouncer.url(postgres_database)).set(drivername="postgresql+psycopg"),
                connect_args={"prepare_threshold": None},
            )
            with engine.connect() as connection:
                other_client = connection.exec_driver_sql("SHOW statement_timeout").scalar_one()
            engine.dispose()
            assert session_value is not None
            return ended_after, session_value.value, other_client
        finally:
            await database.aclose()

    ended_after, inside, other_client = asyncio.run(scenario())

    assert ended_after < 2.5  # the server ended it at the limit, not the sleep's 3 s
    assert inside == "1s"  # the unit's own transaction carries the limit
    assert other_client == "0"  # the server's default: nothing leaked


def _log_in(client: httpx.Client, base: str, username: str, password: str) -> httpx.Response:
    form = client.get(f"{base}login")
    assert form.status_code == 200, form.text
    found = TOKEN.search(form.text)
    assert found is not None
    return client.post(
        f"{base}login",
        data={"csrf_token": found.group(1), "username": username, "password": password},
        follow_redirects=False,
    )


def _forgot(client: httpx.Client, base: str, identifier: str) -> httpx.Response:
    form = client.get(f"{base}forgot")
    found = TOKEN.search(form.text)
    assert found is not None
    return client.post(
        f"{base}forgot", data={"csrf_token": found.group(1), "identifier": identifier}
    )


def _error_lines(log: Path) -> list[str]:
    lines = []
    for line in log.read_text().splitlines():
        try:
            level = json.loads(line).get("level")
        except ValueError:
            lines.append(line)  # not the service's JSON: a traceback, say
            continue
        if level in {"WARNING", "ERROR", "CRITICAL"}:
            lines.append(line)
    return lines


def test_two_instances_serve_everything_through_a_small_pgbouncer_pool(
    bouncer: PgBouncer, postgres_database: str, tmp_path: Path
) -> None:
    _empty_postgres(postgres_database)
    inbox = Inbox()
    receiver = Receiver().up()
    with smtp_server(inbox) as smtp_port:
        env = {
            "FULFILMENT_DATABASE_URL": bouncer.url(postgres_database),
            # Each instance's pool is larger than PgBouncer's three server connections.
            "FULFILMENT_POOL_SIZE": "8",
            "FULFILMENT_RATE_LIMIT": "off",
            "FULFILMENT_HOOKS_ALLOW_PRIVATE": "true",
            "FULFILMENT_HOOKS_POLL_SECONDS": "0.05",
            "FULFILMENT_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "FULFILMENT_PORTAL_SECRET_KEY": "p" * 32,
            "FULFILMENT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "FULFILMENT_MAIL_FROM": "warehouse@acme.example",
            "FULFILMENT_PUBLIC_URL": "https://portal.acme.example",
        }
        key = new_account(env)
        subprocess.run(
            [*FULFILMENT, "users", "create", "--account", "acme", "--username", "piet",
             "--email", "piet@acme.example", "--admin", "--password-stdin"],
            input=PASSWORD, env={**os.environ, **env}, check=True, capture_output=True,
            text=True,
        )  # fmt: skip
        auth = (key, "X")
        logs = [tmp_path / "first.log", tmp_path / "second.log"]
        with running_server(env, log=logs[0]) as first, running_server(env, log=logs[1]) as second:
            urls = [first.url, second.url]
            hook = httpx.post(
                f"{first.url}/api/v1/hooks",
                json={"name": "all", "event": "fulfilment_customers.created",
                      "address": receiver.url, "secret": "s"},
                auth=auth,
            )  # fmt: skip
            assert hook.status_code == 200, hook.text

            def create(n: int) -> int:
                answer = httpx.post(
                    f"{urls[n % 2]}{CUSTOMERS}", json={"name": f"Load {n}"}, auth=auth, timeout=30
                )
                assert answer.status_code == 200, answer.text
                customer_id: int = answer.json()["idfulfilment_customer"]
                return customer_id

            def mixed(n: int) -> int:
                base = urls[n % 2]
                if n % 4 == 0:
                    answer = httpx.get(f"{base}{CUSTOMERS}?search=load", auth=auth, timeout=30)
                elif n % 4 == 1:
                    answer = httpx.get(f"{base}{CUSTOMERS}/{ids[n % len(ids)]}", auth=auth)
                elif n % 4 == 2:
                    answer = httpx.put(
                        f"{base}{CUSTOMERS}/{ids[n % len(ids)]}",
                        json={"language": "en" if n % 8 == 2 else "nl"},
                        auth=auth,
                        timeout=30,
                    )
                else:
                    answer = httpx.get(f"{base}/api/v1/warehouses", auth=auth, timeout=30)
                return answer.status_code

            with ThreadPoolExecutor(max_workers=24) as pool:
                ids = list(pool.map(create, range(40)))
                statuses = list(pool.map(mixed, range(200)))
            assert statuses == [200] * 200

            # The portal, on each instance: a login, and a mailed link.
            answer = httpx.post(
                f"{first.url}{CUSTOMERS}",
                json={"name": "Jansen", "can_login": True, "username": "jansen",
                      "password": PASSWORD, "emailaddress": "info@jansen.example"},
                auth=auth,
            )  # fmt: skip
            assert answer.status_code == 200, answer.text
            jansen = answer.json()["idfulfilment_customer"]
            for url in urls:
                with httpx.Client(base_url=url, timeout=30) as browser:
                    assert _log_in(browser, "/portal/acme/", "jansen", PASSWORD).status_code == 303
                    page = browser.get("/portal/acme/")
                    assert page.status_code == 200
                    assert "Jansen" in page.text
                with httpx.Client(base_url=url, timeout=30) as browser:
                    assert _forgot(browser, "/portal/acme/", "jansen").status_code == 303
                # The back office.
                with httpx.Client(base_url=url, timeout=30) as browser:
                    assert _log_in(browser, "/admin/acme/", "piet", PASSWORD).status_code == 303
                    listed = browser.get("/admin/acme/customers?search=load")
                    assert listed.status_code == 200
                    assert "Load 1" in listed.text

            inbox.wait_for(2, seconds=30)
            assert [to for to, _ in inbox.messages] == [["info@jansen.example"]] * 2
            # Every creation's event, delivered once each between the two instances.
            received = receiver.wait_count(41, seconds=60)
            delivered = sorted(r.payload["data"]["idfulfilment_customer"] for r in received)
            assert delivered == sorted([*ids, jansen])
            # Read while they serve: how a worker stops is not this test's business.
            service_errors = [_error_lines(log) for log in logs]

    receiver.down()
    assert bouncer.error_lines() == []
    assert service_errors == [[], []]


LISTENING = sa.text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND query LIKE 'LISTEN %'"
)


@pytest.mark.parametrize("direct", [False, True], ids=["polled", "listened"])
def test_a_revoked_key_is_refused_through_pgbouncer(
    pgbouncer: PgBouncer, postgres_database: str, direct: bool
) -> None:
    """With a direct connection the service LISTENs there; without one it reads the
    change counter every second. Either way the revocation reaches the key cache."""
    _empty_postgres(postgres_database)
    settings = Settings(
        database_url=pgbouncer.url(postgres_database),
        database_direct_url=postgres_database if direct else None,
        rate_limit="off",
    )
    database = Database(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(database, client, "acme")
        keys = client.app.state.api_keys  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while keys.version() is None:
            assert time.monotonic() < deadline, "the key cache never started watching"
            time.sleep(0.01)
        assert tenant.get(CUSTOMERS).status_code == 200
        assert tenant.get(CUSTOMERS).status_code == 200  # from the cache
        assert len(keys) == 1

        database.write_sync(lambda c: accounts.revoke_api_key_by_value(c, tenant.key))

        assert status_within(lambda: tenant.get(CUSTOMERS), 401, seconds=10) == 401
        name = sa.make_url(postgres_database).database
        engine = sa.create_engine(
            sa.make_url(postgres_database).set(drivername="postgresql+psycopg")
        )
        with engine.connect() as connection:
            listeners = connection.execute(LISTENING, {"name": name}).scalar_one()
        engine.dispose()
    database.close()
    assert listeners == (1 if direct else 0)
