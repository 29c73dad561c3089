"""API keys a staff user made work only while that user is active."""

from __future__ import annotations

import httpx

from fulfilment.customers.audit import Actor
from fulfilment.db import Database
from fulfilment.staff import service as staff
from fulfilment.staff.schemas import User
from tests.factories import API, Tenant, status_within


def test_keys_made_by_a_deactivated_staff_user_stop_working(
    tenant: Tenant, database: Database, piet: User, anna: User
) -> None:
    account = tenant.account
    _, key = database.write_sync(
        lambda c: staff.create_api_key_by(c, account, (piet.iduser, piet.username), "office")
    )

    def me() -> httpx.Response:
        return tenant.client.get(f"{API}/users/me", auth=(key, "X"))

    assert me().status_code == 200
    system = Actor("system", 0, "")
    database.write_sync(lambda c: staff.deactivate_user(c, account, piet.iduser, system))
    # Every worker's key cache hears of it (on PostgreSQL through LISTEN, a moment later).
    assert status_within(me, 401) == 401
    # The account's own key still works; reactivated, the user's works again.
    assert tenant.get(f"{API}/users").status_code == 200
    database.write_sync(lambda c: staff.reactivate_user(c, account, piet.iduser, system))
    assert status_within(me, 200) == 200
