"""API keys a staff user made work only while that user is active."""

from __future__ import annotations

from fulfilment.customers.audit import Actor
from fulfilment.db import Database
from fulfilment.staff import service as staff
from fulfilment.staff.schemas import User
from tests.factories import API, Tenant


def test_keys_made_by_a_deactivated_staff_user_stop_working(
    tenant: Tenant, database: Database, piet: User, anna: User
) -> None:
    account = tenant.account
    _, key = database.write_sync(
        lambda c: staff.create_api_key_by(c, account, (piet.iduser, piet.username), "office")
    )
    assert tenant.client.get(f"{API}/users/me", auth=(key, "X")).status_code == 200
    system = Actor("system", 0, "")
    database.write_sync(lambda c: staff.deactivate_user(c, account, piet.iduser, system))
    refused = tenant.client.get(f"{API}/users/me", auth=(key, "X"))
    assert refused.status_code == 401
    # The account's own key still works; reactivated, the user's works again.
    assert tenant.get(f"{API}/users").status_code == 200
    database.write_sync(lambda c: staff.reactivate_user(c, account, piet.iduser, system))
    assert tenant.client.get(f"{API}/users/me", auth=(key, "X")).status_code == 200
