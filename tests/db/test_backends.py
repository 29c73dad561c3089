"""SQLite and PostgreSQL give the same answers, byte for byte."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.db import Database
from fulfilment.identity.kinds import CUSTOMER
from fulfilment.settings import Settings
from tests.conftest import _empty_postgres
from tests.factories import API, CUSTOMERS, Tenant, make_tenant


def script(tenant: Tenant, database: Database) -> list[tuple[int, bytes]]:
    answers = []

    def record(answer: object) -> None:
        answers.append((answer.status_code, answer.content))  # type: ignore[attr-defined]

    for n in range(130):
        record(
            tenant.post(
                CUSTOMERS,
                {
                    "name": f"  Klant {n} — Ünïcode ✓ ",
                    "username": f"klant{n}" if n % 3 else None,
                    "emailaddress": f"k{n}@example.com" if n % 2 else None,
                    "language": "en" if n % 4 else "nl",
                    "allowed_shipping_profiles": tenant.profiles[: n % 3],
                    "preferred_idwarehouse": tenant.warehouse if n % 5 else None,
                    "idtemplate": tenant.template if n % 7 else None,
                },
            )
        )
    database.write_sync(
        lambda c: c.execute(
            CUSTOMER.statements.last_login,
            {
                "account_id": tenant.account.id,
                "id": 5,
                "now": datetime(2019, 4, 3, 19, 14, 18),
            },
        )
    )
    record(
        tenant.put(
            f"{CUSTOMERS}/5", {"name": "Renamed", "can_login": True, "password": "secret-enough"}
        )
    )
    for path in (
        CUSTOMERS,
        f"{CUSTOMERS}?offset=100",
        f"{CUSTOMERS}?offset=200",
        f"{CUSTOMERS}?search=KLANT%201",
        f"{CUSTOMERS}?search=%C3%BC",
        f"{CUSTOMERS}/5",
        f"{CUSTOMERS}/99999",
        f"{CUSTOMERS}?offset=-1",
        f"{API}/warehouses",
        f"{API}/templates",
        f"{API}/shippingproviders",
    ):
        record(tenant.get(path))
    for bad in ({"name": ""}, {"username": "KLANT1"}, {"idtemplate": 999}, {"language": "de"}):
        record(tenant.post(CUSTOMERS, bad))
    return answers


def run_on(url: str) -> list[tuple[int, bytes]]:
    database = Database(Settings(database_url=url))
    try:
        with TestClient(create_app(Settings(database_url=url, rate_limit="off"))) as client:
            return script(make_tenant(database, client, "acme"), database)
    finally:
        database.close()


def test_both_backends_answer_the_same_bytes(
    tmp_path: Path, sqlite_template: Path, postgres_database: str
) -> None:
    sqlite_file = tmp_path / "same.sqlite3"
    shutil.copy(sqlite_template, sqlite_file)
    _empty_postgres(postgres_database)

    on_sqlite = run_on(f"sqlite:///{sqlite_file}")
    on_postgres = run_on(postgres_database)

    assert len(on_sqlite) == 130 + 1 + 11 + 4
    assert b'"last_login_at":"2019-04-03 21:14:18"' in on_sqlite[-10][1]
    for number, (sqlite_answer, postgres_answer) in enumerate(
        zip(on_sqlite, on_postgres, strict=True)
    ):
        assert sqlite_answer == postgres_answer, number
