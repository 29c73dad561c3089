"""API keys: a revoked key is refused at once, also where valid keys are kept in memory."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from starlette.testclient import TestClient

from fulfilment.accounts import service as accounts
from fulfilment.auth import KEYS_CHANGED, KeyCache, Principal, zone
from fulfilment.db import ChangeMarker, Connection, Database
from fulfilment.settings import Settings

from .factories import CUSTOMERS, Tenant, status_within


def _wait_until_watching(keys: KeyCache) -> None:
    """PostgreSQL's listener connects in a thread of its own, just after start-up."""
    deadline = time.monotonic() + 5
    while keys.version() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    # Going on without the listener would test nothing it is meant to test.
    assert keys.version() is not None, "the key cache never started watching for changes"


def test_a_revoked_key_is_refused(database: Database, client: TestClient, tenant: Tenant) -> None:
    _wait_until_watching(client.app.state.api_keys)  # type: ignore[attr-defined]
    assert tenant.get(CUSTOMERS).status_code == 200
    assert tenant.get(CUSTOMERS).status_code == 200  # from memory
    database.write_sync(lambda c: accounts.revoke_api_key(c, tenant.account, tenant.key_ids[0]))
    if database.is_sqlite:  # the marker is rewritten before the revocation returns
        assert tenant.get(CUSTOMERS).status_code == 401
    assert status_within(lambda: tenant.get(CUSTOMERS), 401) == 401
    assert tenant.get(CUSTOMERS).json()["error_code"] == 101


def test_a_key_revoked_by_value_is_refused(database: Database, tenant: Tenant) -> None:
    assert tenant.get(CUSTOMERS).status_code == 200
    database.write_sync(lambda c: accounts.revoke_api_key_by_value(c, tenant.key))
    assert status_within(lambda: tenant.get(CUSTOMERS), 401) == 401


def test_a_key_revoked_by_another_process_is_refused(
    database: Database, client: TestClient, tenant: Tenant, database_url: str
) -> None:
    _wait_until_watching(client.app.state.api_keys)  # type: ignore[attr-defined]
    assert tenant.get(CUSTOMERS).status_code == 200
    assert tenant.get(CUSTOMERS).status_code == 200
    revoke = (
        "import sys\n"
        "from fulfilment.accounts import service\n"
        "from fulfilment.db import Database\n"
        "from fulfilment.settings import Settings\n"
        "database = Database(Settings(database_url=sys.argv[1]))\n"
        "database.write_sync(lambda c: service.revoke_api_key_by_value(c, sys.argv[2]))\n"
    )
    subprocess.run([sys.executable, "-c", revoke, database_url, tenant.key], check=True)
    if database.is_sqlite:
        assert tenant.get(CUSTOMERS).status_code == 401
    assert status_within(lambda: tenant.get(CUSTOMERS), 401) == 401


def test_keys_are_kept_while_changes_are_watched(
    database: Database, client: TestClient, tenant: Tenant
) -> None:
    keys: KeyCache = client.app.state.api_keys  # type: ignore[attr-defined]
    _wait_until_watching(keys)
    assert keys.version() is not None
    tenant.get(CUSTOMERS)
    tenant.get(CUSTOMERS)
    assert len(keys) == 1


PRINCIPAL = Principal(1, "tag", "key", 1, "acme", zone("UTC"), None)


def test_a_lookup_that_raced_a_change_is_not_kept() -> None:
    current: list[int | None] = [1]

    def version() -> int | None:
        return current[0]

    keys = KeyCache(version)
    assert keys.get("hash", 1) is None
    current[0] = 2  # a revocation arrived while the lookup ran
    keys.store("hash", PRINCIPAL, 1)
    assert keys.get("hash", 2) is None
    keys.store("hash", PRINCIPAL, 2)
    assert keys.get("hash", 2) is PRINCIPAL
    current[0] = 3
    assert keys.get("hash", 3) is None  # every entry goes when the version moves
    current[0] = None  # not watching: nothing is kept
    keys.store("hash", PRINCIPAL, None)
    assert keys.get("hash", None) is None


def test_a_change_marker_moves_with_every_change(tmp_path: Path) -> None:
    reader, writer = (ChangeMarker(tmp_path / f"db-{KEYS_CHANGED}") for _ in range(2))
    seen = {reader.version()}
    for _ in range(20):
        writer.touch()
        seen.add(reader.version())
    assert len(seen) == 21
    assert ChangeMarker(tmp_path / "missing" / "marker").version() is None
    reader.close()


def test_a_replaced_change_marker_is_noticed_within_its_recheck(tmp_path: Path) -> None:
    path = tmp_path / f"db-{KEYS_CHANGED}"
    moment = [0.0]
    reader = ChangeMarker(path, clock=lambda: moment[0])
    ChangeMarker(path).touch()
    before = reader.version()
    content = path.read_bytes()
    path.unlink()
    path.write_bytes(content)  # the same bytes, in another file

    assert reader.version() == before  # not looked at again yet
    moment[0] += ChangeMarker.RECHECK_SECONDS
    after = reader.version()
    assert after is not None
    assert after != before
    assert after.startswith(content)
    reader.close()


def test_a_rolled_back_change_is_not_signalled(tmp_path: Path) -> None:
    # SQLite only: PostgreSQL itself drops the NOTIFY of a rolled-back transaction.
    database = Database(Settings(database_url=f"sqlite:///{tmp_path / 'marked.sqlite3'}"))
    marker = database.marker(KEYS_CHANGED)
    before = marker.version()
    try:

        async def notify_then_fail(connection: Connection) -> None:
            await connection.notify(KEYS_CHANGED)
            raise RuntimeError("abort")

        database.write_sync(notify_then_fail)
    except RuntimeError:
        pass
    assert marker.version() == before
    database.write_sync(lambda c: c.notify(KEYS_CHANGED))
    assert marker.version() != before
    database.close()
