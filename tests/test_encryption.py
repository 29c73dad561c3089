"""Stored secrets and the keys that open them: one key for every instance on PostgreSQL,
old keys still read, `fulfilment secrets rotate`, and a secret no key opens."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment.app import asgi_factory, create_app
from fulfilment.cli import main
from fulfilment.db import Database
from fulfilment.encryption import SecretBox
from fulfilment.settings import Settings, SettingsError
from fulfilment.tables import hooks, staff_users
from tests.admin.conftest import make_user
from tests.admin.helpers import BASE, enrol, log_in, send
from tests.factories import Tenant, make_tenant
from tests.hooks.helpers import HOOKS
from tests.hooks.receiver import Receiver
from tests.portal.helpers import shown_texts
from tests.servers import FULFILMENT

OLD = "the-key-these-secrets-were-stored-with"
NEW = "the-key-secrets-are-stored-with-from-now-on"
OTHER = "a-key-that-never-stored-any-of-these"
POSTGRES = "postgresql://fulfilment@127.0.0.1:5432/fulfilment"
REFUSED = "FULFILMENT_ENCRYPTION_KEY must be set with a PostgreSQL database"


def environment_without_settings(**settings: str) -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if not name.startswith("FULFILMENT_")}
    return {**kept, **settings}


@pytest.mark.parametrize("command", [["serve"], ["hooks", "deliver"], ["secrets", "rotate"]])
def test_postgresql_without_the_key_is_refused_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    env = environment_without_settings(FULFILMENT_DATABASE_URL=POSTGRES)
    refused = subprocess.run(
        [*FULFILMENT, *command], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"Error: {REFUSED}")
    assert len(refused.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no key file made instead


def test_the_server_entry_point_refuses_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FULFILMENT_DATABASE_URL", POSTGRES)
    monkeypatch.delenv("FULFILMENT_ENCRYPTION_KEY", raising=False)
    with pytest.raises(SettingsError, match=REFUSED):
        asgi_factory()


def test_old_keys_must_be_keys() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"FULFILMENT_ENCRYPTION_OLD_KEYS": f"{OLD},short"})
    assert str(refused.value) == (
        "FULFILMENT_ENCRYPTION_OLD_KEYS must list keys of at least 32 characters each, "
        "separated by commas"
    )
    assert "short" not in str(refused.value)
    read = Settings.from_env({"FULFILMENT_ENCRYPTION_OLD_KEYS": f" {OLD} , {OTHER},"})
    assert read.old_encryption_keys == [OLD.encode(), OTHER.encode()]


def stored_secrets(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return [
            *connection.execute(sa.select(hooks.c.secret).order_by(hooks.c.idhook)).scalars(),
            *connection.execute(sa.select(staff_users.c.totp_secret)).scalars(),
        ]


@pytest.fixture
def with_key(settings: Settings) -> Iterator[dict[str, TestClient]]:
    """Clients of the same database, each app with other keys, by name."""
    opened: dict[str, TestClient] = {}
    keys = {"old": (OLD, None), "new": (NEW, f"{OTHER},{OLD}"), "other": (OTHER, None)}
    for name, (key, old_keys) in keys.items():
        variant = replace(
            settings,
            encryption_key=key,
            encryption_old_keys=old_keys,
            hooks_worker=False,
            hooks_allow_private=True,
        )
        opened[name] = TestClient(create_app(variant)).__enter__()
    try:
        yield opened
    finally:
        for client in opened.values():
            client.__exit__(None, None, None)


def rotate(database_url: str, key: str, old_keys: str = "") -> tuple[int, str]:
    env = {
        "FULFILMENT_DATABASE_URL": database_url,
        "FULFILMENT_ENCRYPTION_KEY": key,
        "FULFILMENT_ENCRYPTION_OLD_KEYS": old_keys,
    }
    result = CliRunner().invoke(main, ["secrets", "rotate"], env=env)
    return result.exit_code, result.output


def code_step(client: TestClient, code: str) -> tuple[int, list[str]]:
    client.cookies.clear()
    log_in(client, "anna")
    page = client.get(f"{BASE}second-factor")
    answer = send(client, "second-factor", page, code=code)
    return answer.status_code, shown_texts(answer.text)


def test_old_keys_are_read_new_secrets_use_the_current_key_and_rotate_moves_them(
    database_url: str,
    database: Database,
    tenant: Tenant,
    with_key: dict[str, TestClient],
) -> None:
    make_user(database, tenant, "anna", language="en", admin=True)
    # Stored with the old key: a hook's secret, and anna's second factor.
    hook = {"name": "Signed", "event": "fulfilment_customers.created", "secret": "s" * 32}
    address = {"address": "http://127.0.0.1:9/in"}
    with_key["old"].post(HOOKS, json={**hook, **address}, auth=tenant.auth).raise_for_status()
    log_in(with_key["old"], "anna")
    totp, recovery = enrol(with_key["old"])
    secrets_before = stored_secrets(database)
    assert len(secrets_before) == 2

    # The current key first, the old ones after it: both kinds are read.
    # The enrolment used this time step's code; the next step's is one not used yet.
    status, _ = code_step(with_key["new"], pyotp.TOTP(totp).at(time.time() + 30))
    assert status == 303
    second = {**hook, "name": "Signed too", "address": "http://127.0.0.1:10/in"}
    created = with_key["new"].post(HOOKS, json=second, auth=tenant.auth)
    assert created.status_code == 200
    only_new = SecretBox(Database(replace(database.settings, encryption_key=NEW)))
    assert only_new.open(stored_secrets(database)[1]) == "s" * 32

    assert rotate(database.settings.database_url, NEW, f"{OTHER},{OLD}") == (
        0,
        "2 stored secrets encrypted again with the current key, 1 already were\n",
    )
    after = stored_secrets(database)
    assert [only_new.open(secret) for secret in after] == ["s" * 32, "s" * 32, totp]
    assert rotate(database.settings.database_url, NEW) == (
        0,
        "0 stored secrets encrypted again with the current key, 3 already were\n",
    )
    assert stored_secrets(database) == after

    # A server whose keys open none of them: a clear page, and a recovery code still works.
    status, texts = code_step(with_key["other"], pyotp.TOTP(totp).at(0))
    assert status == 503
    assert (
        "Your code cannot be checked: the server cannot read the key stored for it. Log in "
        "with a recovery code, or ask the service's operator to check its encryption keys."
    ) in texts
    status, _ = code_step(with_key["other"], recovery[0])
    assert status == 303
    code, output = rotate(database.settings.database_url, OTHER)
    assert code == 1
    assert "0 stored secrets encrypted again with the current key, 0 already were" in output
    assert (
        "3 stored secrets cannot be read with any key given: webhook 'Signed' of account "
        "acme; webhook 'Signed too' of account acme; the second factor of staff user 'anna' of "
        "account acme. Add the key they were stored with to FULFILMENT_ENCRYPTION_OLD_KEYS"
    ) in output
    assert stored_secrets(database) == after


def test_a_delivery_whose_secret_no_key_opens_fails_naming_the_cause(
    settings: Settings, database: Database
) -> None:
    hooks_settings = replace(
        settings, hooks_allow_private=True, hooks_poll_seconds=0.05, hooks_retry_scale=0.01
    )
    receiver = Receiver().up()
    stored_with = TestClient(
        create_app(replace(hooks_settings, encryption_key=OLD, hooks_worker=False))
    )
    delivering = TestClient(create_app(replace(hooks_settings, encryption_key=OTHER)))
    with stored_with, delivering:
        tenant = make_tenant(database, stored_with, "acme")
        hook = {"name": "Signed", "event": "fulfilment_customers.created", "secret": "s" * 32}
        answer = stored_with.post(HOOKS, json={**hook, "address": receiver.url}, auth=tenant.auth)
        idhook = answer.json()["idhook"]
        tenant.create_customer(name="Signed for")

        def attempts() -> list[dict[str, Any]]:
            log = delivering.get(f"{HOOKS}/{idhook}/deliveries", auth=tenant.auth).json()
            return list(log[0]["attempts"]) if log else []

        deadline = time.monotonic() + 20
        while not (made := attempts()):
            assert time.monotonic() < deadline, "no attempt in time"
            time.sleep(0.05)
    receiver.down()

    assert made[0]["error"] == (
        "a stored secret cannot be read with FULFILMENT_ENCRYPTION_KEY or any of "
        "FULFILMENT_ENCRYPTION_OLD_KEYS: the key it was stored with is not among them"
    )
    assert made[0]["status"] is None
    assert receiver.requests == []  # nothing was sent unsigned
