"""A back-office session lasts only while its user may log in: each rule that ends one is
tried on a session that is open, each on its own, so that none hides behind another."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner
from starlette.testclient import TestClient

from fulfilment.cli import main
from fulfilment.db import Database
from fulfilment.staff.schemas import User
from fulfilment.tables import staff_users
from fulfilment.web.sessions import cookie_name
from tests.factories import Tenant

from .conftest import make_user
from .helpers import BASE, log_in, send

ENDED = f"{BASE}login?notice=ended"


def _users_command(database_url: str, *arguments: str) -> None:
    result = CliRunner().invoke(
        main, ["users", *arguments], env={"FULFILMENT_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output


def _open_session(client: TestClient, username: str) -> None:
    assert log_in(client, username).status_code == 303
    assert client.get(f"{BASE}customers").status_code == 200


def _where(client: TestClient, path: str = "customers") -> str:
    """Where the page at `path` sends the session: "" when it is shown."""
    answer = client.get(f"{BASE}{path}", follow_redirects=False)
    if answer.status_code == 200:
        return ""
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def test_a_deactivated_users_open_session_ends_at_its_next_request(
    client: TestClient, anna: User, piet: User, database_url: str
) -> None:
    _open_session(client, "piet")

    _users_command(database_url, "deactivate", "--account", "acme", "piet")

    assert _where(client) == ENDED
    # And it stays ended: the session was replaced by an anonymous one.
    assert _where(client) == f"{BASE}login"


def test_a_session_ended_by_deactivation_stays_ended_when_the_user_comes_back(
    client: TestClient, tenant: Tenant, anna: User, piet: User, database_url: str
) -> None:
    # The credentials version moves on deactivation: the user's sessions from before are
    # over even once the user may log in again.
    _open_session(client, "piet")
    name = cookie_name(tenant.account.id, "admin")
    cookie = client.cookies.get(name, path="/admin")
    assert cookie

    _users_command(database_url, "deactivate", "--account", "acme", "piet")
    administrator = TestClient(client.app)
    _open_session(administrator, "anna")
    page = administrator.get(f"{BASE}users/{piet.iduser}")
    assert send(administrator, f"users/{piet.iduser}/reactivate", page).status_code == 303

    replayed = TestClient(client.app)
    replayed.cookies.set(name, cookie, path="/admin")
    assert _where(replayed) == ENDED
    assert _where(client) == ENDED
    _open_session(TestClient(client.app), "piet")


def test_a_user_the_database_says_is_inactive_has_no_session(
    client: TestClient, anna: User, piet: User, database: Database
) -> None:
    # The check on `active` at every request stands on its own: a row made inactive without
    # a new credentials version (by hand, or by a path that forgets it) still ends sessions.
    _open_session(client, "piet")

    with database.engine.begin() as connection:
        connection.execute(
            sa.update(staff_users).where(staff_users.c.iduser == piet.iduser).values(active=False)
        )

    assert _where(client) == ENDED
    assert _where(TestClient(client.app)) == f"{BASE}login"


def test_a_session_of_one_account_is_no_session_in_another(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, anna: User, database: Database
) -> None:
    # Both back offices sign their cookies with the same key: only the account the session
    # names ties it to its account.
    globex = other_tenant.account
    make_user(database, other_tenant, "greta", admin=True, language="en")
    _open_session(client, "anna")
    value = client.cookies.get(cookie_name(tenant.account.id, "admin"), path="/admin")
    assert value
    replayed = TestClient(client.app)
    replayed.cookies.set(cookie_name(globex.id, "admin"), value, path="/admin")

    answer = replayed.get(f"/admin/{globex.subdomain}/customers", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/admin/{globex.subdomain}/login?notice=ended"

    # Even were the user's row to name the other account from now on, the session made in
    # the first account is no session of the second one.
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(staff_users)
            .where(staff_users.c.iduser == anna.iduser)
            .values(account_id=globex.id)
        )
    moved = TestClient(client.app)
    moved.cookies.set(cookie_name(globex.id, "admin"), value, path="/admin")
    answer = moved.get(f"/admin/{globex.subdomain}/customers", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/admin/{globex.subdomain}/login?notice=ended"
