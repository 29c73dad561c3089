"""API keys: a revoked key is refused at once, also where valid keys are kept in memory."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from fulfilment.accounts import service as accounts
from fulfilment.auth import KeyCache
from fulfilment.db import Database

from .factories import CUSTOMERS, Tenant, status_within


def test_a_revoked_key_is_refused(database: Database, client: TestClient, tenant: Tenant) -> None:
    assert tenant.get(CUSTOMERS).status_code == 200
    assert tenant.get(CUSTOMERS).status_code == 200  # from memory, on PostgreSQL
    database.write_sync(lambda c: accounts.revoke_api_key(c, tenant.account, tenant.key_ids[0]))
    assert status_within(lambda: tenant.get(CUSTOMERS), 401) == 401
    assert tenant.get(CUSTOMERS).json()["error_code"] == 101


def test_a_key_revoked_by_value_is_refused(database: Database, tenant: Tenant) -> None:
    assert tenant.get(CUSTOMERS).status_code == 200
    database.write_sync(lambda c: accounts.revoke_api_key_by_value(c, tenant.key))
    assert status_within(lambda: tenant.get(CUSTOMERS), 401) == 401


def test_keys_are_kept_only_on_postgresql_while_listening(
    database: Database, client: TestClient, tenant: Tenant
) -> None:
    keys: KeyCache = client.app.state.api_keys  # type: ignore[attr-defined]
    deadline = time.monotonic() + 2
    while database.is_sqlite is False and keys.generation == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    tenant.get(CUSTOMERS)
    assert len(keys) == (0 if database.is_sqlite else 1)


def test_a_lookup_that_raced_a_change_is_not_kept() -> None:
    keys = KeyCache()
    keys.forget_all(listening=True)
    before = keys.generation
    keys.forget_all(listening=True)  # a revocation arrived while the lookup ran
    keys.store("hash", (1, 1, None, "acme", "UTC"), before)
    assert keys.get("hash") is None
    keys.store("hash", (1, 1, None, "acme", "UTC"), keys.generation)
    assert keys.get("hash") is not None
    keys.forget_all(listening=False)
    keys.store("hash", (1, 1, None, "acme", "UTC"), keys.generation)
    assert keys.get("hash") is None
