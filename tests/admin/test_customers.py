"""The customers pages of the back office: list, search and pages, the detail page with its
history, create and edit forms with errors beside their fields, and ending portal sessions.
Every change goes through the customers service, with the staff user as the actor."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.staff.schemas import User
from fulfilment.tables import shown_once
from tests.factories import CUSTOMERS, Tenant
from tests.portal import helpers as portal
from tests.portal.helpers import PASSWORD as CUSTOMER_PASSWORD
from tests.portal.helpers import shown_texts

from .helpers import BASE, log_in, send


def test_list_search_and_pages(client: TestClient, tenant: Tenant, piet: User) -> None:
    for number in range(1, 106):
        name = "Zoekbaar BV" if number == 104 else f"Customer {number:03}"
        tenant.create_customer(name=name, username=f"user{number}")
    log_in(client, "piet")
    first = client.get(f"{BASE}customers")
    assert first.status_code == 200
    texts = shown_texts(first.text)
    assert "Customer 001" in texts
    assert "Customer 100" in texts
    assert "Customer 101" not in texts
    assert f'href="{BASE}customers?offset=100"' in first.text
    second = client.get(f"{BASE}customers?offset=100")
    assert "Customer 101" in shown_texts(second.text)
    assert "Zoekbaar BV" in shown_texts(second.text)
    assert "offset=200" not in second.text
    found = client.get(f"{BASE}customers", params={"search": "zoekBAAR"})
    names = [t for t in shown_texts(found.text) if t.startswith(("Customer ", "Zoekbaar"))]
    assert names == ["Zoekbaar BV"]
    nothing = client.get(f"{BASE}customers", params={"search": "no such name"})
    assert "Geen klant past bij deze zoekopdracht." in shown_texts(nothing.text)
    assert client.get(f"{BASE}customers?offset=abc").status_code == 200


@pytest.mark.pgbouncer
def test_create_with_a_field_error_then_edit_and_see_the_history(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    log_in(client, "anna")
    form = client.get(f"{BASE}customers/new")
    fields = {
        "name": "Tulp Trading",
        "username": "tulp",
        "emailaddress": "not an address",
        "language": "en",
        "can_login": "1",
        "password": "tulp password",
        "preferred_idwarehouse": str(tenant.warehouse),
        "idtemplate": str(tenant.template),
        f"allowed_shipping_profiles_{tenant.profiles[1]}": "1",
    }
    refused = send(client, "customers/new", form, **fields)
    assert refused.status_code == 400
    texts = shown_texts(refused.text)
    assert "Enter an e-mail address such as name@example.com." in texts
    # What was typed is kept (the password is not sent back).
    assert 'value="Tulp Trading"' in refused.text
    assert 'value="not an address"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert "tulp password" not in refused.text
    assert tenant.get(CUSTOMERS).json() == []

    created = send(
        client, "customers/new", refused, **{**fields, "emailaddress": "info@tulp.example"}
    )
    assert created.status_code == 303
    customer = tenant.get(CUSTOMERS).json()[0]
    customer_id = customer["idfulfilment_customer"]
    assert created.headers["location"] == f"{BASE}customers/{customer_id}?notice=saved"
    stored = tenant.get(f"{CUSTOMERS}/{customer_id}").json()
    assert stored["allowed_shipping_profiles"] == [tenant.profiles[1]]
    assert stored["preferred_idwarehouse"] == tenant.warehouse
    assert stored["can_login"] is True

    edit = client.get(f"{BASE}customers/{customer_id}/edit")
    assert 'value="Tulp Trading"' in edit.text
    taken = tenant.create_customer(name="Other", username="other")
    renamed = {**fields, "username": "OTHER", "emailaddress": "info@tulp.example"}
    clash = send(client, f"customers/{customer_id}/edit", edit, **renamed)
    assert clash.status_code == 400
    assert "Another customer already has this username." in shown_texts(clash.text)
    assert taken["username"] == "other"

    edited = {**fields, "name": "Tulp Trading BV", "emailaddress": "info@tulp.example"}
    changed = send(client, f"customers/{customer_id}/edit", edit, **{**edited, "password": ""})
    assert changed.status_code == 303
    detail = client.get(changed.headers["location"])
    texts = shown_texts(detail.text)
    assert "The customer has been saved." in texts
    assert "Main" in texts
    assert "PostNL · Signature" in texts
    assert "Staff user anna" in texts
    assert "changed the customer" in texts
    history = tenant.get(f"{CUSTOMERS}/{customer_id}/history").json()
    assert [event["action"] for event in history] == ["create", "update"]
    assert history[1]["actor"] == {"type": "staff", "id": anna.iduser, "name": "anna"}
    assert history[1]["changes"] == {"name": {"from": "Tulp Trading", "to": "Tulp Trading BV"}}


def test_a_generated_password_is_shown_once_after_the_redirect_and_works(
    client: TestClient, tenant: Tenant, anna: User, piet: User, database: Database
) -> None:
    log_in(client, "anna")
    form = client.get(f"{BASE}customers/new")
    saved = send(client, "customers/new", form, name="Gen BV", username="gen", language="nl",
                 can_login="1", generate_password="1")  # fmt: skip
    # POST, redirect, GET: reloading the page the browser is left on sends nothing again.
    assert saved.status_code == 303
    address = saved.headers["location"]
    customer_id = tenant.get(CUSTOMERS).json()[0]["idfulfilment_customer"]
    assert address.startswith(f"{BASE}customers/{customer_id}?notice=saved&once=")
    # Between the two, the password is kept sealed, never as itself.
    with database.engine.connect() as connection:
        kept = [row.payload for row in connection.execute(sa.select(shown_once))]
    assert len(kept) == 1
    # Another staff user who is handed the address sees nothing.
    other = TestClient(client.app)
    log_in(other, "piet")
    assert "secret" not in other.get(address).text
    page = client.get(address)
    found = portal.re.search(r'<code class="secret">([^<]+)</code>', page.text)
    assert found is not None
    password = found.group(1)
    assert len(password) == 16
    assert password not in kept[0]
    portal_client = TestClient(client.app)
    answer = portal.log_in(portal_client, "/portal/acme/", "gen", password)
    assert answer.status_code == 303
    # Shown once: the same address again, or the plain page, shows it no more.
    assert password not in client.get(address).text
    assert password not in client.get(f"{BASE}customers/{customer_id}").text
    with database.engine.connect() as connection:
        assert connection.execute(sa.select(shown_once)).all() == []


def test_every_error_of_the_form_shows_in_one_round(
    client: TestClient, tenant: Tenant, piet: User
) -> None:
    tenant.create_customer(name="Jansen", username="jansen")
    log_in(client, "piet")
    form = client.get(f"{BASE}customers/new")
    refused = send(client, "customers/new", form, name="", username="JANSEN",
                   emailaddress="not an address", language="nl")  # fmt: skip
    assert refused.status_code == 400
    texts = shown_texts(refused.text)
    # The title says so, and the summary links to each field.
    assert "<title>Fout: Nieuwe klant · Acme BV</title>" in refused.text
    for field in ("name", "username", "emailaddress"):
        assert f'<a href="#{field}">' in refused.text
        assert f'aria-describedby="{field}-error" aria-invalid="true"' in refused.text
    assert "Een andere klant heeft deze gebruikersnaam al." in texts
    assert "Vul een naam in." in texts
    assert len(tenant.get(CUSTOMERS).json()) == 1


def test_ending_the_portal_sessions_logs_the_customer_out(
    client: TestClient, tenant: Tenant, piet: User
) -> None:
    customer: dict[str, Any] = tenant.create_customer(
        name="Jansen", username="jansen", can_login=True, password=CUSTOMER_PASSWORD
    )
    portal_client = TestClient(client.app)
    assert (
        portal.log_in(portal_client, "/portal/acme/", "jansen", CUSTOMER_PASSWORD).status_code
        == 303
    )
    assert portal_client.get("/portal/acme/").status_code == 200

    log_in(client, "piet")
    detail = client.get(f"{BASE}customers/{customer['idfulfilment_customer']}")
    ended = send(client, f"customers/{customer['idfulfilment_customer']}/end-sessions", detail)
    assert ended.status_code == 303
    assert "De portaalsessies van de klant zijn beëindigd." in shown_texts(
        client.get(ended.headers["location"]).text
    )
    out = portal_client.get("/portal/acme/", follow_redirects=False)
    assert out.status_code == 303
    assert "login" in out.headers["location"]


def test_another_accounts_customer_is_not_found(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, piet: User
) -> None:
    theirs = other_tenant.create_customer(name="Theirs")
    log_in(client, "piet")
    assert client.get(f"{BASE}customers/{theirs['idfulfilment_customer']}").status_code == 404
    assert client.get(f"{BASE}customers/abc").status_code == 404
    assert client.get(f"{BASE}customers/99999999999999999999").status_code == 404
