"""Driving either site's login pages as a browser would, and reading what they stored."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pyotp
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.tables import account_events, accounts, audit_events
from tests.factories import CUSTOMERS, Tenant
from tests.portal.helpers import form_token

PASSWORD = "identity password 1"
NEW_PASSWORD = "chosen from a link 1"
SECRET = re.compile(r"<code>([A-Z2-7 ]+)</code>")
RECOVERY = re.compile(r"<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>")


@dataclass
class Site:
    """One person (`person_id`, username "jansen") of one site: "portal" or "admin"."""

    name: str
    client: TestClient
    tenant: Tenant
    database: Database
    person_id: int
    email: str

    @property
    def base(self) -> str:
        return f"/{self.name}/{self.tenant.account.subdomain}/"

    def send(self, path: str, page: httpx.Response, **fields: str) -> httpx.Response:
        """Send a form of `page` (which carries the form token) to the site's `path`."""
        return self.client.post(
            f"{self.base}{path}",
            data={"csrf_token": form_token(page.text), **fields},
            follow_redirects=False,
        )

    def log_in(self, password: str = PASSWORD, client: TestClient | None = None) -> httpx.Response:
        client = client or self.client
        form = client.get(f"{self.base}login?lang=en")
        assert form.status_code == 200, form.text
        return client.post(
            f"{self.base}login",
            data={"csrf_token": form_token(form.text), "username": "jansen", "password": password},
            follow_redirects=False,
        )

    def send_code(self, code: str, client: TestClient | None = None) -> httpx.Response:
        client = client or self.client
        page = client.get(f"{self.base}second-factor")
        assert page.status_code == 200, page.text
        return client.post(
            f"{self.base}second-factor",
            data={"csrf_token": form_token(page.text), "code": code},
            follow_redirects=False,
        )

    def enrol(self) -> tuple[str, list[str]]:
        """Set up the second factor of the logged-in (or enrolling) person."""
        page = self.client.get(f"{self.base}enrol")
        assert page.status_code == 200, page.text
        found = SECRET.search(page.text)
        assert found is not None
        secret = found.group(1).replace(" ", "")
        done = self.send("enrol", page, code=pyotp.TOTP(secret).now())
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"{self.base}recovery-codes"
        codes = RECOVERY.findall(self.client.get(done.headers["location"]).text)
        assert len(codes) == 10
        return secret, codes

    def forgot(self, identifier: str = "jansen") -> httpx.Response:
        form = self.client.get(f"{self.base}forgot?lang=en")
        return self.send("forgot", form, identifier=identifier, language="en")

    def switch_off(self) -> None:
        """What the warehouse does to stop the person logging in."""
        if self.name == "portal":
            answer = self.tenant.put(f"{CUSTOMERS}/{self.person_id}", {"can_login": False})
            assert answer.status_code == 200, answer.text
        else:
            from fulfilment.customers.audit import Actor
            from fulfilment.staff import service as staff

            account = self.tenant.account
            self.database.write_sync(
                lambda c: staff.deactivate_user(c, account, self.person_id, Actor("system", 0, ""))
            )

    def require_second_factor(self) -> None:
        column = "require_portal_2fa" if self.name == "portal" else "require_staff_2fa"
        statement = (
            sa.update(accounts)
            .where(accounts.c.id == self.tenant.account.id)
            .values({column: True})
        )
        with self.database.engine.begin() as connection:
            connection.execute(statement)

    def audit_actions(self) -> list[str]:
        """What the audit trail of the person says happened, oldest first: the account's log
        for a staff user (its actions), the customer's trail (its changed fields)."""
        with self.database.engine.connect() as connection:
            if self.name == "admin":
                rows = connection.execute(
                    sa.select(account_events.c.action)
                    .where(
                        account_events.c.subject == "staff_user",
                        account_events.c.subject_id == self.person_id,
                    )
                    .order_by(account_events.c.id)
                ).all()
                return [row.action for row in rows]
            rows = connection.execute(
                sa.select(audit_events.c.action, audit_events.c.changes)
                .where(audit_events.c.idfulfilment_customer == self.person_id)
                .order_by(audit_events.c.id)
            ).all()
            return [f"{row.action} {row.changes}" for row in rows]
