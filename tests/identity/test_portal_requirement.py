"""The warehouse requires a second factor of its portal's customers in the back office's
settings; the portal asks its customers for one from then on."""

from __future__ import annotations

from typing import Any

import pyotp
from starlette.testclient import TestClient

from fulfilment.staff.schemas import User
from tests.admin.helpers import BASE as ADMIN
from tests.admin.helpers import log_in as admin_log_in
from tests.admin.helpers import send as admin_send
from tests.factories import Tenant
from tests.portal.helpers import PASSWORD, log_in, post_form

from .helpers import SECRET

PORTAL = "/portal/acme/"


def test_an_administrator_requires_a_second_factor_in_the_portal(
    client: TestClient, tenant: Tenant, anna: User, jansen: dict[str, Any]
) -> None:
    admin_log_in(client, "anna")
    settings = client.get(f"{ADMIN}settings")
    saved = admin_send(
        client,
        "settings",
        settings,
        name=tenant.account.name,
        timezone="Europe/Amsterdam",
        require_portal_second_factor="1",
    )
    assert saved.status_code == 303, saved.text
    shown = client.get(f"{ADMIN}settings").text
    assert 'name="require_portal_second_factor" value="1" checked' in shown
    client.cookies.clear()

    answer = log_in(client, PORTAL, "Jansen", PASSWORD)
    assert answer.headers["location"] == f"{PORTAL}enrol"
    # Not logged in until the second factor is set up.
    assert client.get(PORTAL, follow_redirects=False).headers["location"] == f"{PORTAL}login"
    page = client.get(f"{PORTAL}enrol")
    assert "Dit portaal vereist verificatie in twee stappen voor elke klant." in page.text
    found = SECRET.search(page.text)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    done = post_form(client, PORTAL, "enrol", page, code=pyotp.TOTP(secret).now())
    assert done.headers["location"] == f"{PORTAL}recovery-codes"
    assert "Jansen Tuinmeubelen" in client.get(PORTAL).text
