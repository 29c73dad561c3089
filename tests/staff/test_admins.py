"""An account always keeps an active administrator: the staff service refuses to deactivate
the last one or take its role, from the back office and the command line alike, even when
two administrators step down at the same moment. Every change is in the account's audit
trail, by whoever made it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from fulfilment.accounts.audit import COMMAND_LINE
from fulfilment.cli import main
from fulfilment.customers.audit import Actor
from fulfilment.db import Connection, Database
from fulfilment.staff import service as staff
from fulfilment.staff.schemas import User
from fulfilment.tables import account_events, staff_users
from tests.admin.conftest import make_user
from tests.factories import Tenant

ANNA = Actor("staff", 1, "anna")


def _admins(database: Database) -> list[str]:
    statement = (
        sa.select(staff_users.c.username)
        .where(staff_users.c.admin.is_(True), staff_users.c.active.is_(True))
        .order_by(staff_users.c.username)
    )
    with database.engine.connect() as connection:
        return list(connection.execute(statement).scalars())


def _events(database: Database) -> list[tuple[object, ...]]:
    columns = (
        account_events.c.subject_name,
        account_events.c.action,
        account_events.c.actor_type,
        account_events.c.changes,
    )
    statement = sa.select(*columns).where(account_events.c.subject == "staff_user")
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement.order_by(account_events.c.id))]


def _change(database: Database, tenant: Tenant, work: str, user: User, *args: object) -> None:
    async def run(connection: Connection) -> None:
        await getattr(staff, work)(connection, tenant.account, user.iduser, *args, ANNA)

    database.write_sync(run)


def test_the_last_active_administrator_stays_one(database: Database, tenant: Tenant) -> None:
    anna = make_user(database, tenant, "anna", admin=True)
    piet = make_user(database, tenant, "piet")
    with pytest.raises(staff.LastAdmin):
        _change(database, tenant, "set_admin", anna, False)
    with pytest.raises(staff.LastAdmin):
        _change(database, tenant, "deactivate_user", anna)
    # A deactivated administrator does not count as one.
    _change(database, tenant, "set_admin", piet, True)
    _change(database, tenant, "deactivate_user", piet)
    with pytest.raises(staff.LastAdmin):
        _change(database, tenant, "set_admin", anna, False)
    # Once another is active again, Anna may go.
    _change(database, tenant, "reactivate_user", piet)
    _change(database, tenant, "deactivate_user", anna)
    assert _admins(database) == ["piet"]
    # A change to what already is records nothing.
    _change(database, tenant, "set_admin", piet, True)
    _change(database, tenant, "deactivate_user", anna)
    created = '{"emailaddress":"%s@warehouse.example","admin":%s}'
    assert _events(database) == [
        ("anna", "create", "command_line", created % ("anna", "true")),
        ("piet", "create", "command_line", created % ("piet", "false")),
        ("piet", "update", "staff", '{"admin":{"from":false,"to":true}}'),
        ("piet", "deactivate", "staff", "{}"),
        ("piet", "reactivate", "staff", "{}"),
        ("anna", "deactivate", "staff", "{}"),
    ]  # fmt: skip
    with pytest.raises(staff.UserNotFound):
        _change(database, tenant, "deactivate_user", User(**{**_as_dict(anna), "iduser": 999}))


def _as_dict(user: User) -> dict[str, object]:
    return {field: getattr(user, field) for field in user.__struct_fields__}


def test_the_command_line_keeps_the_rule_too(
    database: Database, tenant: Tenant, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(database, tenant, "anna", admin=True)
    monkeypatch.setenv("FULFILMENT_DATABASE_URL", database_url)
    refused = CliRunner().invoke(main, ["users", "deactivate", "--account", "acme", "anna"])
    assert refused.exit_code == 1
    assert "last active administrator" in refused.output
    assert _admins(database) == ["anna"]


def test_two_administrators_stepping_down_at_once_leave_one(
    database: Database, tenant: Tenant
) -> None:
    anna = make_user(database, tenant, "anna", admin=True)
    piet = make_user(database, tenant, "piet", admin=True)
    # On PostgreSQL both transactions start before either changes anything; SQLite runs
    # one writing transaction at a time.
    both_started = threading.Barrier(2, timeout=10) if not database.is_sqlite else None

    def step_down(user: User) -> str:
        async def run(connection: Connection) -> None:
            if both_started is not None:
                both_started.wait()
            await staff.set_admin(connection, tenant.account, user.iduser, False, COMMAND_LINE)

        try:
            database.write_sync(run)
        except staff.LastAdmin:
            return "refused"
        return "done"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(step_down, [anna, piet]))
    assert outcomes == ["done", "refused"]
    assert len(_admins(database)) == 1
