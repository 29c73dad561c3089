"""Staff users: the operator's commands and the read-only users API, on both backends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pyotp
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from fulfilment.accounts import service as accounts
from fulfilment.cli import main
from fulfilment.customers.audit import Actor
from fulfilment.db import Database
from fulfilment.encryption import box_for
from fulfilment.identity import factors
from fulfilment.identity.kinds import STAFF, Person
from fulfilment.settings import Settings
from fulfilment.staff import service as staff
from fulfilment.tables import staff_users
from tests.factories import API, Tenant

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(
            main, list(args), input=input, env={"FULFILMENT_DATABASE_URL": database_url}
        )

    return invoke


def create(
    run: Run,
    tenant: Tenant,
    username: str,
    *extra: str,
    password: str = "s3cret-pass",  # noqa: S107
) -> Result:
    return run(
        "users", "create", "--account", tenant.account.subdomain, "--username", username,
        "--email", f"{username}@example.com", *extra, "--password-stdin",
        input=password + "\n",
    )  # fmt: skip


def test_create_prints_the_user_and_the_api_lists_it(run: Run, tenant: Tenant) -> None:
    result = create(run, tenant, "Anna", "--firstname", "Anna", "--lastname", "de Vries",
                    "--language", "en", "--admin")  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["username"] == "Anna"
    assert printed["admin"] is True
    assert printed["active"] is True
    assert printed["language"] == "en"
    assert "password" not in result.stdout
    assert "s3cret" not in result.stdout
    assert set(printed) == {
        "iduser", "username", "firstname", "lastname", "emailaddress", "language", "admin",
        "active", "last_login_at", "created_at", "updated_at",
    }  # fmt: skip

    listed = tenant.get(f"{API}/users")
    assert listed.status_code == 200
    assert listed.json() == [printed]
    one = tenant.get(f"{API}/users/{printed['iduser']}")
    assert one.json() == printed


def test_usernames_are_unique_per_account_whatever_the_case(run: Run, tenant: Tenant) -> None:
    assert create(run, tenant, "piet").exit_code == 0
    again = create(run, tenant, "PIET")
    assert again.exit_code == 1
    assert "already used by another staff user" in again.output


def test_bad_input_is_refused_with_a_reason(run: Run, tenant: Tenant) -> None:
    short = create(run, tenant, "kees", password="short")
    assert short.exit_code == 1
    assert "password must be 8 to 1024 characters" in short.output
    for address in ("not-an-address", "root,victim@acme.test", "Root <root@acme.test>"):
        bad_mail = run(
            "users", "create", "--account", tenant.account.subdomain, "--username", "x",
            "--email", address, "--password-stdin", input="long enough\n",
        )  # fmt: skip
        assert bad_mail.exit_code == 1
        assert f"emailaddress {address!r} does not look like an e-mail address" in bad_mail.output
    assert tenant.get(f"{API}/users").json() == []


def test_deactivate_and_the_active_filter(run: Run, tenant: Tenant) -> None:
    assert create(run, tenant, "jan").exit_code == 0
    assert create(run, tenant, "els").exit_code == 0
    result = run("users", "deactivate", "--account", tenant.account.subdomain, "JAN")
    assert result.exit_code == 0, result.output
    active = tenant.get(f"{API}/users", params={"active": "true"}).json()
    inactive = tenant.get(f"{API}/users", params={"active": "false"}).json()
    assert [user["username"] for user in active] == ["els"]
    assert [user["username"] for user in inactive] == ["jan"]
    refused = tenant.get(f"{API}/users", params={"active": "maybe"})
    assert refused.status_code == 400
    assert refused.json()["error_code"] == 5
    listing = run("users", "list", "--account", tenant.account.subdomain)
    assert "jan" in listing.stdout
    assert "els" in listing.stdout
    unknown = run("users", "deactivate", "--account", tenant.account.subdomain, "nobody")
    assert unknown.exit_code == 1
    assert "not found" in unknown.output


def test_unknown_and_other_accounts_users_are_404(
    run: Run, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = json.loads(create(run, tenant, "anna").stdout)
    assert other_tenant.get(f"{API}/users/{created['iduser']}").status_code == 404
    missing = tenant.get(f"{API}/users/999999")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == 20
    assert tenant.get(f"{API}/users/abc").status_code == 404


def test_me_is_the_staff_user_who_made_the_key(
    run: Run, tenant: Tenant, database: Database
) -> None:
    created = json.loads(create(run, tenant, "anna").stdout)
    # A key made on the command line was made by no staff user.
    refused = tenant.get(f"{API}/users/me")
    assert refused.status_code == 404
    assert refused.json()["error_code"] == 20

    async def make_key(connection):  # type: ignore[no-untyped-def]
        account = await accounts.get_account(connection, tenant.account.subdomain)
        return await staff.create_api_key_by(
            connection, account, (created["iduser"], created["username"]), "office"
        )

    _, key = database.write_sync(make_key)
    me = tenant.client.get(f"{API}/users/me", auth=(key, "X"))
    assert me.status_code == 200
    assert me.json() == created


def test_reset_2fa_forgets_the_second_factor(run: Run, tenant: Tenant, settings: Settings) -> None:
    created = json.loads(create(run, tenant, "anna").stdout)
    account = tenant.account
    secret = ""

    async def person(database: Database) -> Person:
        key = {"account_id": account.id, "id": created["iduser"]}
        row = await database.read(lambda c: c.one(STAFF.statements.by_id, key))
        assert row is not None
        return Person(*row)

    async def enrol() -> tuple[list[str] | None, int]:
        nonlocal secret
        database = Database(settings)
        await database.start()
        try:
            secret = await factors.seed_to_confirm(database, STAFF, account, await person(database))
            anna = await person(database)
            actor = Actor("staff", anna.id, "anna")
            code = pyotp.TOTP(secret).now()
            assert await factors.enrol(database, STAFF, account, anna, code, actor)
            anna = await person(database)
            codes = await factors.take_codes(database, STAFF, account, anna)
            return codes, await factors.codes_left(database, STAFF, anna)
        finally:
            await database.aclose()

    async def left() -> int:
        database = Database(settings)
        await database.start()
        try:
            return await factors.codes_left(database, STAFF, await person(database))
        finally:
            await database.aclose()

    codes, count = asyncio.run(enrol())
    assert codes is not None
    assert len(set(codes)) == 10
    assert count == 10
    # The seed is stored encrypted, and this server's key opens it again.
    database = Database(settings)
    try:
        with database.engine.connect() as connection:
            stored = connection.execute(sa.select(staff_users.c.totp_secret)).scalar_one()
    finally:
        database.close()
    assert stored is not None
    assert secret not in stored
    assert box_for(Database(settings)).open(stored) == secret
    result = run("users", "reset-2fa", "--account", tenant.account.subdomain, "anna")
    assert result.exit_code == 0, result.output
    assert asyncio.run(left()) == 0
