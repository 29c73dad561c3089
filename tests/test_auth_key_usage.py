"""When each API key was last used: noted by requests, written off their path, at most once
a minute per key whatever the number of workers."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.accounts import service as accounts
from fulfilment.app import create_app
from fulfilment.auth import KeyUsage
from fulfilment.clock import utcnow
from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.tables import api_keys

from .factories import CUSTOMERS, Tenant, make_tenant


def _last_used(database: Database, tenant: Tenant) -> dict[int, datetime | None]:
    keys = database.read_sync(lambda c: accounts.list_api_keys(c, tenant.account))
    return {key.id: key.last_used_at for key in keys}


def _usage(client: TestClient) -> KeyUsage:
    usage: KeyUsage = client.app.state.key_usage  # type: ignore[attr-defined]
    return usage


def test_requests_write_nothing_until_the_minute_s_flush(
    database: Database, client: TestClient, tenant: Tenant
) -> None:
    database.write_sync(lambda c: accounts.create_api_key(c, tenant.account, "unused"))
    for _ in range(20):
        assert tenant.get(CUSTOMERS).status_code == 200
    key_id = tenant.key_ids[0]
    assert _last_used(database, tenant)[key_id] is None

    before = utcnow()
    client.portal.call(_usage(client).flush)  # type: ignore[union-attr]
    used = _last_used(database, tenant)
    stamp = used[key_id]
    assert stamp is not None
    assert before - timedelta(seconds=1) <= stamp.replace(tzinfo=None) <= utcnow()
    # A key nobody used keeps no time.
    assert [value for key, value in used.items() if key != key_id] == [None]


def test_a_key_is_written_at_most_once_a_minute_across_workers(
    database: Database, client: TestClient, tenant: Tenant
) -> None:
    key_id = tenant.key_ids[0]
    assert tenant.get(CUSTOMERS).status_code == 200
    client.portal.call(_usage(client).flush)  # type: ignore[union-attr]
    first = _last_used(database, tenant)[key_id]
    assert first is not None

    # The same worker, and another one (a KeyUsage of its own), a moment later.
    assert tenant.get(CUSTOMERS).status_code == 200
    client.portal.call(_usage(client).flush)  # type: ignore[union-attr]
    another_worker = KeyUsage(database)
    another_worker.note(key_id)
    client.portal.call(another_worker.flush)  # type: ignore[union-attr]
    assert _last_used(database, tenant)[key_id] == first

    # Once the stored time is more than a minute old, the next flush writes it again.
    old = utcnow() - timedelta(minutes=2)
    update = sa.update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=old)
    with database.engine.begin() as connection:
        connection.execute(update)
    another_worker.note(key_id)
    client.portal.call(another_worker.flush)  # type: ignore[union-attr]
    latest = _last_used(database, tenant)[key_id]
    assert latest is not None
    assert latest.replace(tzinfo=None) > old + timedelta(minutes=1)


def test_a_stopping_worker_writes_what_it_noted(database: Database, settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        tenant = make_tenant(database, client, "initech")
        assert tenant.get(CUSTOMERS).status_code == 200
        assert _last_used(database, tenant)[tenant.key_ids[0]] is None
    assert _last_used(database, tenant)[tenant.key_ids[0]] is not None
