"""Every form that changes something, on both sites, carries its session's token: sent
without it, or with another session's, it is refused and nothing stored changes. The forms
are found by reading each site as a browser would, in each state a visitor can be in, and
every POST route of the route table must be among them: a new form is tried as soon as a
page shows it, and a POST route no page shows fails the suite until a state here does."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pyotp
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import Match, Route
from starlette.testclient import TestClient

from fulfilment.clock import utcnow
from fulfilment.db import Database
from fulfilment.staff import service as staff
from fulfilment.staff.schemas import User
from fulfilment.tables import metadata, passkeys
from tests.admin import helpers as admin
from tests.admin.conftest import make_user
from tests.factories import Tenant
from tests.hooks.helpers import CHANGED, HOOKS
from tests.mail.smtp import Inbox, link_in
from tests.portal import helpers as portal

from .conftest import PUBLIC_URL
from .crawl import Form, crawl

EXPIRED = {
    "The form has expired. Please try again.",
    "Het formulier is verlopen. Probeer het opnieuw.",
}
TOTP_SECRET = re.compile(r"<code>([A-Z2-7 ]{16,})</code>")
FORGED_PASSWORD = "forged password 1"
FORGED_ADDRESS = "forged@attacker.example"


@dataclass
class Visitor:
    """Someone in one state on a site: the client with its cookies, where the crawl starts,
    and what the visitor would type."""

    name: str
    client: TestClient
    starts: list[str]
    username: str
    password: str
    totp_secret: str | None = None

    def typed(self, form: Form) -> dict[str, str]:
        """What this visitor would type into `form` to make it do something."""
        code = ""
        shown = TOTP_SECRET.search(form.page_text)
        secret = shown.group(1).replace(" ", "") if shown else self.totp_secret
        if secret is not None:
            code = pyotp.TOTP(secret).now()
        return {
            "username": self.username,
            "identifier": self.username,
            "password": self.password,
            "current_password": self.password,
            "new_password": FORGED_PASSWORD,
            "new_password_again": FORGED_PASSWORD,
            "new_address": FORGED_ADDRESS,
            "emailaddress": FORGED_ADDRESS,
            "name": "Forged",
            "firstname": "Forged",
            "address": "https://93.184.216.34/forged",
            "code": code,
        }


def _mailed_path(inbox: Inbox, count: int, base: str) -> str:
    """The mailed link of the `count`th mail, as a path under `base`."""
    link = link_in(inbox.wait_for(count, seconds=15)[count - 1])
    assert link.startswith(PUBLIC_URL + base), link
    return link.removeprefix(PUBLIC_URL + base)


def _portal_visitors(client: TestClient, tenant: Tenant, inbox: Inbox) -> list[Visitor]:
    base = "/portal/acme/"
    # Smid has a second factor: its login stops at the code.
    password = portal.PASSWORD
    tenant.create_customer(name="Smid", can_login=True, username="smid", password=password)
    smid = TestClient(client.app)
    assert portal.log_in(smid, base, "smid", password).status_code == 303
    totp_secret, _ = admin.enrol(smid, base)
    at_code = TestClient(client.app)
    assert portal.log_in(at_code, base, "smid", password).headers["location"] == (
        f"{base}second-factor"
    )
    customer = TestClient(client.app)
    assert portal.log_in(customer, base, "jansen", portal.PASSWORD).status_code == 303
    forgot = TestClient(client.app)
    page = forgot.get(f"{base}forgot")
    assert portal.post_form(forgot, base, "forgot", page, identifier="jansen").status_code == 303
    reset = _mailed_path(inbox, 1, base)
    page = customer.get(f"{base}email")
    asked = portal.post_form(
        customer, base, "email", page, current_password=portal.PASSWORD, new_address="n@j.example"
    )
    assert asked.status_code == 303, asked.text
    confirm = _mailed_path(inbox, 2, base)
    password = portal.PASSWORD
    return [
        Visitor("anonymous", TestClient(client.app), ["login"], "jansen", password),
        Visitor("logged in", customer, [""], "jansen", password),
        Visitor("at the code", at_code, ["second-factor"], "smid", password, totp_secret),
        Visitor("from the reset mail", TestClient(client.app), [reset], "jansen", password),
        Visitor("from the address mail", TestClient(client.app), [confirm], "jansen", password),
    ]


def _office_visitors(
    client: TestClient, tenant: Tenant, database: Database, inbox: Inbox
) -> list[Visitor]:
    base = admin.BASE
    # Piet has a second factor: his login stops at the code.
    piet = TestClient(client.app)
    assert admin.log_in(piet, "piet").status_code == 303
    totp_secret, _ = admin.enrol(piet)
    at_code = TestClient(client.app)
    assert admin.log_in(at_code, "piet").headers["location"] == f"{base}second-factor"
    # What the administrator's pages offer to act on: a customer, an inactive user, hooks
    # (one inactive) and the account's key.
    tenant.create_customer(name="Jansen", username="jansen", emailaddress="info@jansen.example")
    make_user(database, tenant, "oud")
    database.write_sync(lambda connection: staff.deactivate(connection, tenant.account, "oud"))
    for name in ("on", "off"):
        body = {"name": name, "event": CHANGED, "address": f"https://93.184.216.34/{name}"}
        hook = tenant.post(HOOKS, body)
        assert hook.status_code == 200, hook.text
    assert tenant.client.delete(f"{HOOKS}/{hook.json()['idhook']}", auth=tenant.auth).is_success
    anna = TestClient(client.app)
    assert admin.log_in(anna, "anna").status_code == 303
    forgot = TestClient(client.app)
    page = forgot.get(f"{base}forgot")
    assert admin.send(forgot, "forgot", page, identifier="anna").status_code == 303
    reset = _mailed_path(inbox, 1, base)
    page = anna.get(f"{base}email")
    asked = admin.send(
        anna, "email", page, current_password=admin.PASSWORD, new_address="a@new.example"
    )
    assert asked.status_code == 303, asked.text
    confirm = _mailed_path(inbox, 2, base)
    password = admin.PASSWORD
    return [
        Visitor("anonymous", TestClient(client.app), ["login"], "anna", password),
        Visitor("administrator", anna, [""], "anna", password),
        Visitor("at the code", at_code, ["second-factor"], "piet", password, totp_secret),
        Visitor("from the reset mail", TestClient(client.app), [reset], "anna", password),
        Visitor("from the address mail", TestClient(client.app), [confirm], "anna", password),
    ]


def _stored(database: Database) -> dict[str, Any]:
    """Every stored row, but for what background work changes on its own: when each API
    key was last used, and how far the sending of each mail is (of the mails, only how many
    there are is compared)."""
    stored: dict[str, Any] = {}
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "mail_outbox":
                count = sa.select(sa.func.count()).select_from(table)
                stored[table.name] = connection.execute(count).scalar_one()
                continue
            columns = [column for column in table.c if column.name != "last_used_at"]
            rows = connection.execute(sa.select(*columns))
            stored[table.name] = sorted(repr(tuple(row)) for row in rows)
    return stored


def _route_of(app: Starlette, path: str) -> Route:
    """The route a POST to `path` goes to, as the router picks it: the first that matches."""
    scope = {"type": "http", "method": "POST", "path": path.split("?")[0]}
    for route in app.routes:
        if isinstance(route, Route) and route.matches(scope)[0] is Match.FULL:
            return route
    raise AssertionError(f"no route takes a POST to {path}")


def _changing_endpoints(app: Starlette, prefix: str) -> dict[Callable[..., Any], str]:
    """The endpoints that take a POST under `prefix` (on an account's own host and under
    its name alike), but the one that answers every other path with 404."""
    return {
        route.endpoint: route.path
        for route in app.routes
        if isinstance(route, Route)
        and "POST" in (route.methods or ())
        and route.path.startswith(prefix)
        and not route.path.endswith("{rest:path}")
    }


def _another_sessions_token(client: TestClient, base: str) -> str:
    """A token an attacker has: the one of a session of their own."""
    return portal.form_token(TestClient(client.app).get(f"{base}login").text)


def _try_forged(visitor: Visitor, form: Form, base: str, database: Database) -> None:
    client = visitor.client
    fields = {**form.fields, **{n: v for n, v in visitor.typed(form).items() if n in form.typed}}
    theirs = _another_sessions_token(client, base)
    for forged in ({}, {"csrf_token": theirs}):
        sent = {name: value for name, value in fields.items() if name != "csrf_token"}
        before = _stored(database)
        # As a browser sends a form, an empty one too.
        answer = client.post(
            form.action,
            content=urlencode({**sent, **forged}),
            headers={"content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        where = f"{visitor.name}: {form.action} (from {form.page}) with {sorted(forged)}"
        assert answer.status_code == 400, where
        assert EXPIRED & set(portal.shown_texts(answer.text)), where
        assert _stored(database) == before, where


def _with_passkey(database: Database, tenant: Tenant, kind: str, person_id: int) -> None:
    """A passkey of the person, so that its page shows the form that removes it."""
    values = {
        "account_id": tenant.account.id, "person_type": kind, "person_id": person_id,
        "credential_id": f"{kind}-{person_id}", "public_key": "AAAA", "user_handle": "BBBB",
        "sign_count": 0, "name": "Phone", "created_at": utcnow(),
    }  # fmt: skip
    database.write_sync(lambda c: c.execute(sa.insert(passkeys).values(**values), {}))


@pytest.fixture
def office(tenant: Tenant, database: Database, anna: User, piet: User) -> str:
    for user in (anna, piet):
        _with_passkey(database, tenant, "staff", user.iduser)
    return admin.BASE


@pytest.fixture
def portal_site(tenant: Tenant, database: Database, jansen: dict[str, Any]) -> str:
    _with_passkey(database, tenant, "customer", jansen["idfulfilment_customer"])
    return "/portal/acme/"


@pytest.fixture(params=["portal", "admin"])
def site(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_every_form_that_changes_something_needs_its_sessions_token(
    request: pytest.FixtureRequest,
    client: TestClient,
    tenant: Tenant,
    database: Database,
    inbox: Inbox,
    site: str,
) -> None:
    app = client.app
    assert isinstance(app, Starlette)
    if site == "portal":
        base = request.getfixturevalue("portal_site")
        visitors = _portal_visitors(client, tenant, inbox)
    else:
        base = request.getfixturevalue("office")
        visitors = _office_visitors(client, tenant, database, inbox)
    tried: set[Callable[..., Any]] = set()

    for visitor in visitors:
        start = visitor.client.get(base + visitor.starts[0], follow_redirects=False)
        actions: set[str] = set()
        for form in crawl(visitor.client, base, visitor.starts):
            # The same form on every page (logging out) is tried once.
            if form.method != "post" or form.action in actions:
                continue
            actions.add(form.action)
            route = _route_of(app, form.action)
            _try_forged(visitor, form, base, database)
            tried.add(route.endpoint)
        # The visitor is where the forged forms found them: still logged in, or not.
        again = visitor.client.get(base + visitor.starts[0], follow_redirects=False)
        assert again.status_code == start.status_code, visitor.name

    untried = {
        path
        for endpoint, path in _changing_endpoints(app, f"/{site}/").items()
        if endpoint not in tried
    }
    assert untried == set(), "POST routes whose forms no visitor here was shown"
