"""`/api/v1/hooks`: the hosted system's shape (list, get, add, delete) and ours besides."""

from __future__ import annotations

import sqlalchemy as sa
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment.accounts import service as accounts
from fulfilment.app import create_app
from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.tables import hooks
from tests.factories import Tenant, make_tenant

from .conftest import SECRET_KEY
from .helpers import CHANGED, CREATED, HOOKS, create_hook
from .receiver import Receiver

FIELDS = {"idhook", "name", "event", "address", "active", "secret", "created_at", "updated_at"}


def test_create_get_list_and_the_hook_object(tenant: Tenant, receiver: Receiver) -> None:
    created = create_hook(tenant, receiver.url, name="  CRM sync ", secret="s3cret!")

    assert set(created) == FIELDS
    assert created["name"] == "CRM sync"
    assert created["event"] == CREATED
    assert created["address"] == receiver.url
    assert created["active"] is True
    assert created["secret"] is True  # whether one is set, never the secret
    assert tenant.get(f"{HOOKS}/{created['idhook']}").json() == created
    assert tenant.get(HOOKS).json() == [created]
    plain = create_hook(tenant, receiver.url, event=CHANGED)
    assert plain["secret"] is False
    assert [hook["idhook"] for hook in tenant.get(HOOKS).json()] == [
        created["idhook"],
        plain["idhook"],
    ]


def test_the_list_pages_by_offset(tenant: Tenant) -> None:
    made = [create_hook(tenant, f"http://127.0.0.1:9/{number}") for number in range(100)]
    # At most 100 active ones: an inactive hook is listed too.
    tenant.client.delete(f"{HOOKS}/{made[0]['idhook']}", auth=tenant.auth)
    create_hook(tenant, "http://127.0.0.1:9/100")

    first = tenant.get(HOOKS).json()
    second = tenant.get(HOOKS, params={"offset": 100}).json()

    assert len(first) == 100
    assert len(second) == 1
    assert [hook["idhook"] for hook in first + second] == sorted(
        hook["idhook"] for hook in first + second
    )
    assert tenant.get(HOOKS, params={"offset": 200}).json() == []
    assert tenant.get(HOOKS, params={"offset": -1}).status_code == 400


def test_an_account_has_at_most_the_set_number_of_active_hooks(
    settings: Settings, database: Database, receiver: Receiver
) -> None:
    with TestClient(create_app(replace(settings, hooks_per_account=3))) as client:
        tenant = make_tenant(database, client, "acme")
        other = make_tenant(database, client, "other")
        made = [create_hook(tenant, f"{receiver.url}/{number}") for number in range(3)]

        refused = tenant.post(HOOKS, {"name": "4th", "event": CREATED, "address": receiver.url})

        assert refused.status_code == 400
        assert refused.json() == {
            "error": True,
            "error_code": 5,
            "error_message": "This account already has 3 active hooks, the most it may have "
            "(FULFILMENT_HOOKS_PER_ACCOUNT): deactivate one first.",
        }
        assert len(tenant.get(HOOKS).json()) == 3
        # Another account counts its own.
        create_hook(other, receiver.url)
        # A deactivated hook makes room; reactivating it while full is refused alike.
        tenant.client.delete(f"{HOOKS}/{made[0]['idhook']}", auth=tenant.auth)
        create_hook(tenant, receiver.url)
        again = tenant.post(f"{HOOKS}/{made[0]['idhook']}/reactivate")
        assert again.status_code == 400
        assert "already has 3 active hooks" in again.json()["error_message"]
        assert tenant.get(f"{HOOKS}/{made[0]['idhook']}").json()["active"] is False
        # Reactivating an active hook is no new one.
        assert tenant.post(f"{HOOKS}/{made[1]['idhook']}/reactivate").status_code == 200


def test_the_secret_is_stored_encrypted_and_never_answered(
    tenant: Tenant, database: Database, receiver: Receiver
) -> None:
    created = create_hook(tenant, receiver.url, secret="very secret words")

    with database.engine.connect() as connection:
        stored = connection.execute(sa.select(hooks.c.secret)).scalar_one()
    assert "very secret words" not in stored
    assert SECRET_KEY not in stored
    assert stored.startswith("v1:")
    for answer in (tenant.get(HOOKS), tenant.get(f"{HOOKS}/{created['idhook']}")):
        assert "very secret words" not in answer.text


def test_same_address_and_event_twice_is_refused(tenant: Tenant, receiver: Receiver) -> None:
    create_hook(tenant, receiver.url)

    again = tenant.post(HOOKS, {"name": "again", "event": CREATED, "address": receiver.url})

    assert again.status_code == 400
    assert again.json()["error_code"] == 5
    assert "address" in again.json()["error_message"]
    # Another event at the same address is another hook.
    create_hook(tenant, receiver.url, event=CHANGED)


def test_bad_bodies_are_400_naming_the_field(tenant: Tenant, receiver: Receiver) -> None:
    good = {"name": "n", "event": CREATED, "address": receiver.url}
    for change, field in [
        ({"name": None}, "name"),
        ({"name": "   "}, "name"),
        ({"event": "orders.created"}, "event"),
        ({"address": "ftp://example.com/"}, "address"),
        ({"address": "not a url"}, "address"),
        ({"address": 5}, "address"),
        ({"secret": ""}, "secret"),
        ({"secret": True}, "secret"),
    ]:
        answer = tenant.post(HOOKS, {**good, **change})
        assert answer.status_code == 400, (change, answer.text)
        assert field in answer.json()["error_message"], answer.text
    for missing in good:
        body = {k: v for k, v in good.items() if k != missing}
        answer = tenant.post(HOOKS, body)
        assert answer.status_code == 400
        assert missing in answer.json()["error_message"]
    assert tenant.get(HOOKS).json() == []


def test_delete_deactivates_and_reactivate_undoes_it(tenant: Tenant, receiver: Receiver) -> None:
    hook = create_hook(tenant, receiver.url)
    path = f"{HOOKS}/{hook['idhook']}"

    deleted = tenant.client.delete(path, auth=tenant.auth)

    assert deleted.status_code == 200
    assert deleted.json()["active"] is False
    assert tenant.get(path).json()["active"] is False
    reactivated = tenant.post(f"{path}/reactivate")
    assert reactivated.status_code == 200
    assert reactivated.json()["active"] is True


def test_put_changes_name_address_and_secret_only(tenant: Tenant, receiver: Receiver) -> None:
    hook = create_hook(tenant, receiver.url)
    path = f"{HOOKS}/{hook['idhook']}"

    renamed = tenant.put(path, {"name": "Renamed", "event": CHANGED, "active": False}).json()
    assert renamed["name"] == "Renamed"
    assert renamed["event"] == CREATED
    assert renamed["active"] is True
    assert renamed["address"] == receiver.url
    with_secret = tenant.put(path, {"secret": "now one"}).json()
    assert with_secret["secret"] is True
    assert with_secret["name"] == "Renamed"
    assert tenant.put(path, {"secret": None}).json()["secret"] is False
    moved = tenant.put(path, {"address": receiver.url + "/v2"}).json()
    assert moved["address"] == receiver.url + "/v2"
    refused = tenant.put(path, {"address": "gopher://x/"})
    assert refused.status_code == 400
    assert tenant.get(path).json()["address"] == receiver.url + "/v2"


def test_put_onto_another_hooks_address_is_refused(tenant: Tenant, receiver: Receiver) -> None:
    first = create_hook(tenant, receiver.url)
    second = create_hook(tenant, receiver.url + "/other")

    answer = tenant.put(f"{HOOKS}/{second['idhook']}", {"address": receiver.url})

    assert answer.status_code == 400
    assert tenant.get(f"{HOOKS}/{second['idhook']}").json() == second
    assert first["address"] == receiver.url


def test_keys_scoped_to_a_customer_get_403(
    tenant: Tenant, database: Database, receiver: Receiver
) -> None:
    hook = create_hook(tenant, receiver.url)
    customer = tenant.create_customer(name="Scoped")

    async def scoped_key(connection: object) -> str:
        _, key = await accounts.create_api_key(
            connection,  # type: ignore[arg-type]
            tenant.account,
            "scoped",
            customer["idfulfilment_customer"],
        )
        return key

    key = database.write_sync(scoped_key)
    auth = (key, "X")
    client = tenant.client
    path = f"{HOOKS}/{hook['idhook']}"
    for method, url in [
        ("GET", HOOKS),
        ("POST", HOOKS),
        ("GET", path),
        ("PUT", path),
        ("DELETE", path),
        ("POST", f"{path}/reactivate"),
        ("POST", f"{path}/test"),
        ("GET", f"{path}/deliveries"),
    ]:
        answer = client.request(method, url, auth=auth, content=b"{}")
        assert answer.status_code == 403, (method, url)
        assert answer.json()["error_code"] == 102
    assert tenant.get(path).json()["active"] is True


def test_another_accounts_hook_is_404(
    tenant: Tenant, other_tenant: Tenant, receiver: Receiver
) -> None:
    hook = create_hook(tenant, receiver.url)
    path = f"{HOOKS}/{hook['idhook']}"
    client: TestClient = other_tenant.client
    for method, url in [
        ("GET", path),
        ("PUT", path),
        ("DELETE", path),
        ("POST", f"{path}/reactivate"),
        ("POST", f"{path}/test"),
        ("GET", f"{path}/deliveries"),
    ]:
        answer = client.request(method, url, auth=other_tenant.auth, content=b'{"name": "x"}')
        assert answer.status_code == 404, (method, url, answer.text)
        assert answer.json()["error_code"] == 20
    assert other_tenant.get(HOOKS).json() == []
    assert tenant.get(path).json() == hook
    # The same address and event in another account is no duplicate.
    assert create_hook(other_tenant, receiver.url)["address"] == receiver.url


def test_test_sends_ping_with_empty_data(tenant: Tenant, receiver: Receiver) -> None:
    hook = create_hook(tenant, receiver.url)

    answer = tenant.post(f"{HOOKS}/{hook['idhook']}/test")

    assert answer.status_code == 200
    [ping] = receiver.wait_count(1)
    assert ping.payload["event"] == "ping"
    assert ping.payload["data"] == {}
    assert ping.payload["idhook"] == hook["idhook"]
    tenant.client.delete(f"{HOOKS}/{hook['idhook']}", auth=tenant.auth)
    assert tenant.post(f"{HOOKS}/{hook['idhook']}/test").status_code == 400


def test_the_delivery_log_is_newest_first_with_each_attempt(
    tenant: Tenant, receiver: Receiver
) -> None:
    hook = create_hook(tenant, receiver.url)
    receiver.status = 500
    first = tenant.create_customer(name="First")
    deadline_log = f"{HOOKS}/{hook['idhook']}/deliveries"
    receiver.wait_for(lambda _: receiver.failures >= 2)
    receiver.status = 200
    tenant.create_customer(name="Second")
    receiver.wait_for(lambda got: len({r.payload["data"]["name"] for r in got}) == 2)

    def settled() -> list[dict[str, object]]:
        log: list[dict[str, object]] = tenant.get(deadline_log).json()
        return log

    import time

    deadline = time.monotonic() + 10
    while any(d["state"] != "delivered" for d in settled()) and time.monotonic() < deadline:
        time.sleep(0.05)
    log = settled()
    assert [d["event"] for d in log] == [CREATED, CREATED]
    newest, oldest = log
    assert newest["iddelivery"] > oldest["iddelivery"]  # type: ignore[operator]
    assert oldest["state"] == "delivered"
    attempts = oldest["attempts"]
    assert isinstance(attempts, list)
    assert len(attempts) >= 3
    assert attempts[0]["status"] == 200  # newest first
    failed = attempts[-1]
    assert failed["status"] == 500
    assert failed["error"] == "answered 500 Internal Server Error"
    assert failed["response"] == "status 500"
    assert isinstance(failed["duration_ms"], int)
    assert newest["webhook_id"] != oldest["webhook_id"]
    assert first["name"] == "First"


def test_an_unknown_id_is_404_and_a_non_number_is_no_path(tenant: Tenant) -> None:
    assert tenant.get(f"{HOOKS}/999").status_code == 404
    assert tenant.get(f"{HOOKS}/abc").json()["error_code"] == 8
    assert tenant.client.patch(HOOKS, auth=tenant.auth).status_code == 405


def test_the_openapi_document_describes_hooks_and_deliveries(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()

    assert {"/api/v1/hooks", "/api/v1/hooks/{idhook}/deliveries"} <= set(document["paths"])
    assert set(document["webhooks"]) == {CREATED, CHANGED, "ping"}
    delivery = document["webhooks"][CHANGED]["post"]
    headers = {parameter["name"] for parameter in delivery["parameters"]}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature", "X-Picqer-Signature"} <= headers
    assert "5 s, 20 s" in delivery["description"]
    # The console at /docs draws both from this document (tests/docs/test_console.py).
