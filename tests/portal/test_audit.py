"""What the portal leaves in the audit trail and the metrics."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.factories import CUSTOMERS, Tenant, metric

from .helpers import PASSWORD, log_in, post_form

BASE = "/portal/acme/"


def test_logins_and_password_changes_are_in_the_history(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any]
) -> None:
    assert log_in(client, BASE, "jansen", "wrong password").status_code == 401
    assert log_in(client, BASE, "jansen", PASSWORD).status_code == 303
    page = client.get(BASE)
    changed = post_form(
        client,
        BASE,
        "password",
        page,
        current_password=PASSWORD,
        new_password="a brand new password",
        new_password_again="a brand new password",
    )
    assert changed.status_code in {200, 303}

    events = tenant.get(f"{CUSTOMERS}/{jansen['idfulfilment_customer']}/history").json()

    portal = {"type": "portal", "id": jansen["idfulfilment_customer"], "name": "Jansen"}
    assert [(e["action"], e["actor"]) for e in events[1:]] == [
        ("login", portal),
        ("update", portal),
    ]
    assert events[1]["changes"] == {}
    assert events[2]["changes"] == {"password": "changed"}


def test_failed_logins_are_counted(client: TestClient, jansen: dict[str, Any]) -> None:
    before = metric(client.get("/metrics").text, "fulfilment_portal_login_failures_total")

    log_in(client, BASE, "jansen", "wrong password")
    log_in(client, BASE, "nobody", "wrong password")
    log_in(client, BASE, "jansen", PASSWORD)

    after = metric(client.get("/metrics").text, "fulfilment_portal_login_failures_total")
    assert after - before == 2
