"""The administrators' pages of the back office: API keys, staff users, the account's
settings and its audit log. Only administrators see them (in the menu too); every change
goes through its package's service and lands in the audit log, with the user as the actor."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.staff.schemas import User
from fulfilment.tables import account_events, accounts, api_keys, audit_events
from tests.factories import API, CUSTOMERS, Tenant, status_within, stored_customers
from tests.portal.helpers import shown_texts

from .helpers import BASE, enrol, log_in, send

PAGES = ["keys", "users", "audit", "users/1", "hooks", "hooks/1", "hooks/1/deliveries"]
FORMS = ["keys/new", "keys/1/revoke", "users/1/deactivate", "users/1/reactivate", "users/1/admin",
         "users/1/reset-second-factor", "users/invite", "hooks/new", "hooks/1/edit",
         "hooks/1/secret", "hooks/1/deactivate", "hooks/1/reactivate", "hooks/1/test"]  # fmt: skip
KEY = re.compile(r'<code class="secret">(fk_[A-Za-z0-9_-]+)</code>')


def _events(database: Database, subject: str | None = None) -> list[tuple[object, ...]]:
    """The account's audit trail: (subject, action, who) of each change, oldest first."""
    columns = (account_events.c.subject, account_events.c.action, account_events.c.actor_name)
    statement = sa.select(*columns).order_by(account_events.c.id)
    with database.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(statement)]
    return [row for row in rows if subject is None or row[0] == subject]


def test_a_staff_user_who_is_no_administrator_sees_none_of_the_pages(
    client: TestClient, tenant: Tenant, anna: User, piet: User, database: Database
) -> None:
    log_in(client, "piet")
    home = client.get(f"{BASE}customers")
    texts = shown_texts(home.text)
    for word in ("API-sleutels", "Webhooks", "Medewerkers", "Logboek"):
        assert word not in texts
    for path in ("keys", "hooks", "users", "audit"):
        assert f'href="{BASE}{path}"' not in home.text
    before = _events(database)
    for path in [*PAGES, *FORMS]:
        assert client.get(f"{BASE}{path}").status_code == 403, path
    for path in FORMS:
        refused = send(client, path, home, name="sneaky", admin="1")
        assert refused.status_code == 403, path
        assert "This page is for administrators only." in shown_texts(refused.text)
    settings = client.get(f"{BASE}settings")
    assert send(client, "settings", settings, name="Taken over").status_code == 403
    assert _events(database) == before
    # On the account's own host, the same.
    own = TestClient(client.app, base_url="http://acme.localhost")
    log_in(own, "piet", base="/admin/")
    assert own.get("/admin/keys").status_code == 403
    log_in(client, "anna")
    menu = client.get(f"{BASE}customers")
    for path in ("keys", "hooks", "users", "audit"):
        assert f'href="{BASE}{path}"' in menu.text


def test_keys_are_created_shown_once_listed_and_revoked(
    client: TestClient, tenant: Tenant, anna: User, database: Database
) -> None:
    customer = tenant.create_customer(name="Jansen Tuinmeubelen", username="jansen")
    log_in(client, "anna")
    page = client.get(f"{BASE}keys")
    assert page.status_code == 200
    assert "tests" in shown_texts(page.text)  # the tenant's key, made on the command line
    assert "The command line" in shown_texts(page.text)

    refused = send(client, "keys/new", page, name=" ")
    assert refused.status_code == 400
    assert 'id="name-error"' in refused.text
    unknown = send(client, "keys/new", page, name="Webshop", customer="99999999")
    assert unknown.status_code == 400
    assert 'id="customer-error"' in unknown.text
    assert 'value="Webshop"' in unknown.text
    other = send(client, "keys/new", page, name="Webshop", customer="abc")
    assert other.status_code == 400
    assert "Enter the number of one of the account's customers." in shown_texts(other.text)
    assert _events(database, "api_key") == [("api_key", "create", "")]

    # POST, redirect, GET: the key is kept (sealed) for the one page the redirect leads to.
    posted = send(client, "keys/new", page, name="Webshop")
    assert posted.status_code == 303
    assert re.fullmatch(rf"{BASE}keys/\d+/created\?once=[\w-]+", posted.headers["location"])
    created = client.get(posted.headers["location"])
    assert created.status_code == 200
    found = KEY.search(created.text)
    assert found is not None
    key = found.group(1)
    assert f"curl -u {key}: http://testserver/api/v1/fulfilment/customers" in created.text
    reloaded = client.get(posted.headers["location"], follow_redirects=False)
    assert reloaded.headers["location"] == f"{BASE}keys?notice=key-shown"
    assert key not in client.get(reloaded.headers["location"]).text
    assert client.get(CUSTOMERS, auth=(key, "")).status_code == 200
    me = client.get(f"{API}/users/me", auth=(key, "X"))
    assert me.json()["username"] == "anna"

    scoped = send(client, "keys/new", page, name="Jansen's own",
                  customer=str(customer["idfulfilment_customer"]))  # fmt: skip
    found = KEY.search(client.get(scoped.headers["location"]).text)
    assert found is not None
    assert client.get(CUSTOMERS, auth=(found.group(1), "")).status_code == 403

    listing = client.get(f"{BASE}keys")
    texts = shown_texts(listing.text)
    assert key not in listing.text  # shown once, never again
    assert {"Webshop", "Jansen's own", "anna", "Jansen Tuinmeubelen"} <= set(texts)
    # Use of a key shows as its "last used at" (written off the request's path, at most once
    # a minute per key).
    assert texts.count("Never") == 3
    client.portal.call(client.app.state.key_usage.flush)  # type: ignore[attr-defined, union-attr]
    assert shown_texts(client.get(f"{BASE}keys").text).count("Never") == 0
    with database.engine.connect() as connection:
        used = connection.execute(
            sa.select(api_keys.c.last_used_at).where(api_keys.c.name == "Webshop")
        ).scalar_one()
    assert used is not None

    with database.engine.connect() as connection:
        key_id = connection.execute(
            sa.select(api_keys.c.id).where(api_keys.c.name == "Webshop")
        ).scalar_one()
    # Revoking asks first, on a page of its own (no script needed), naming the key.
    assert f'href="{BASE}keys/{key_id}/revoke"' in listing.text
    question = client.get(f"{BASE}keys/{key_id}/revoke")
    assert question.status_code == 200
    assert re.search(r"<h1>Revoke API key Webshop \(fk_[\w-]+…\)\?</h1>", question.text)
    assert client.get(CUSTOMERS, auth=(key, "")).status_code == 200
    revoked = send(client, f"keys/{key_id}/revoke", question)
    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"{BASE}keys?notice=key-revoked"
    assert status_within(lambda: client.get(CUSTOMERS, auth=(key, "")), 401) == 401
    again = send(client, f"keys/{key_id}/revoke", listing)
    assert again.status_code == 404
    assert client.get(f"{BASE}keys/{key_id}/revoke").status_code == 404
    assert send(client, "keys/abc/revoke", listing).status_code == 404
    other_tenant_key = tenant.key_ids[0] + 1000
    assert send(client, f"keys/{other_tenant_key}/revoke", listing).status_code == 404
    after = client.get(f"{BASE}keys?notice=key-revoked")
    assert "The API key has been revoked." in shown_texts(after.text)
    assert _events(database, "api_key") == [
        ("api_key", "create", ""),
        ("api_key", "create", "anna"),
        ("api_key", "create", "anna"),
        ("api_key", "revoke", "anna"),
    ]
    # A form from another session (or none) changes nothing.
    stale = client.post(f"{BASE}keys/new", data={"csrf_token": "forged", "name": "x"})
    assert stale.status_code == 400
    assert len(_events(database, "api_key")) == 4


def test_staff_users_are_deactivated_made_admin_and_reset_but_one_admin_stays(
    client: TestClient, tenant: Tenant, anna: User, piet: User, database: Database
) -> None:
    log_in(client, "anna")
    users = client.get(f"{BASE}users")
    assert {"Anna Smit", "Piet Bakker", "anna@warehouse.example"} <= set(shown_texts(users.text))
    own = client.get(f"{BASE}users/{anna.iduser}")
    # Anna is the only administrator: she can neither step down nor be deactivated.
    for action, fields in (("admin", {"admin": "0"}), ("deactivate", {})):
        refused = send(client, f"users/{anna.iduser}/{action}", own, **fields)
        assert refused.status_code == 400
        assert (
            "The account's last active administrator cannot be deactivated or lose the role."
            in shown_texts(refused.text)
        )
    made = send(client, f"users/{piet.iduser}/admin", own, admin="1")
    assert made.headers["location"] == f"{BASE}users/{piet.iduser}?notice=admin-changed"
    assert tenant.get(f"{API}/users/{piet.iduser}").json()["admin"] is True

    # Piet enrols a second factor; Anna resets it (a lost phone) and his session ends.
    piets = TestClient(client.app)
    log_in(piets, "piet")
    enrol(piets)
    assert piets.get(f"{BASE}customers", follow_redirects=False).status_code == 200
    page = client.get(f"{BASE}users/{piet.iduser}")
    assert "Aan" not in shown_texts(page.text)
    assert "On" in shown_texts(page.text)
    reset = send(client, f"users/{piet.iduser}/reset-second-factor", page)
    assert reset.headers["location"].endswith("?notice=second-factor-reset")
    assert "Off" in shown_texts(client.get(reset.headers["location"]).text)
    assert piets.get(f"{BASE}customers", follow_redirects=False).status_code == 303

    # Now that Piet is an administrator too, Anna can step down; Piet cannot then.
    assert send(client, f"users/{anna.iduser}/admin", own, admin="0").status_code == 303
    assert client.get(f"{BASE}users").status_code == 403
    log_in(client, "piet")
    page = client.get(f"{BASE}users/{piet.iduser}")
    assert send(client, f"users/{piet.iduser}/deactivate", page).status_code == 400
    # Deactivating Anna ends her sessions; reactivating lets her log in again.
    assert send(client, f"users/{anna.iduser}/deactivate", page).status_code == 303
    assert log_in(TestClient(client.app), "anna").status_code == 401
    back = send(client, f"users/{anna.iduser}/reactivate", page)
    assert back.headers["location"].endswith("?notice=reactivated")
    assert log_in(TestClient(client.app), "anna").headers["location"] == BASE
    assert client.get(f"{BASE}users/999999").status_code == 404
    assert client.get(f"{BASE}users/abc").status_code == 404
    assert _events(database, "staff_user") == [
        ("staff_user", "create", ""),
        ("staff_user", "create", ""),
        ("staff_user", "update", "anna"),
        ("staff_user", "enrol_second_factor", "piet"),
        ("staff_user", "reset_second_factor", "anna"),
        ("staff_user", "update", "anna"),
        ("staff_user", "deactivate", "piet"),
        ("staff_user", "reactivate", "piet"),
    ]


def test_settings_change_name_time_zone_and_the_second_factor_rule(
    client: TestClient, tenant: Tenant, anna: User, database: Database
) -> None:
    customer = tenant.create_customer(name="Jansen")
    history = f"{CUSTOMERS}/{customer['idfulfilment_customer']}/history"
    in_amsterdam = tenant.get(history).json()[0]["occurred_at"]
    log_in(client, "anna")
    page = client.get(f"{BASE}settings")
    assert 'value="Europe/Amsterdam"' in page.text
    refused = send(client, "settings", page, name="", timezone="Mars/Olympus_Mons")
    assert refused.status_code == 400
    assert 'id="name-error"' in refused.text or 'id="timezone-error"' in refused.text
    bad_zone = send(client, "settings", page, name="Acme Logistics", timezone="Mars/Olympus")
    assert bad_zone.status_code == 400
    assert "Choose a time zone from the list, such as Europe/Amsterdam." in shown_texts(
        bad_zone.text
    )
    assert 'value="Mars/Olympus"' in bad_zone.text
    before = stored_customers(database)
    saved = send(client, "settings", page, name="Acme Logistics", timezone="UTC",
                 require_second_factor="1")  # fmt: skip
    assert saved.headers["location"] == f"{BASE}settings?notice=settings-saved"
    with database.engine.connect() as connection:
        row = connection.execute(
            sa.select(accounts.c.name, accounts.c.timezone, accounts.c.require_staff_2fa)
        ).one()
    assert tuple(row) == ("Acme Logistics", "UTC", True)
    assert stored_customers(database) == before
    # The API answers in the new zone: every worker's key cache learns of the change (on
    # PostgreSQL by a notification, milliseconds after the commit).
    deadline = time.monotonic() + 2
    while True:
        in_utc = tenant.get(history).json()[0]["occurred_at"]
        shift = datetime.fromisoformat(in_amsterdam) - datetime.fromisoformat(in_utc)
        if shift == timedelta(hours=1) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert shift == timedelta(hours=1)  # December: Amsterdam is UTC+1
    shown = client.get(f"{BASE}settings")
    assert "Acme Logistics" in shown_texts(shown.text)
    assert _events(database)[-1] == ("settings", "update", "anna")
    # Nothing changed: nothing recorded.
    send(client, "settings", shown, name="Acme Logistics", timezone="UTC",
         require_second_factor="1")  # fmt: skip
    assert len([e for e in _events(database) if e[0] == "settings"]) == 1


def test_the_audit_log_shows_every_change_filtered_and_paged(
    client: TestClient, tenant: Tenant, anna: User, piet: User, database: Database
) -> None:
    for number in range(1, 56):
        tenant.create_customer(name=f"Customer {number:02}")
    # Times are stored to the second: what came before happened an hour ago.
    with database.engine.begin() as connection:
        for table in (audit_events, account_events):
            connection.execute(sa.update(table).values(occurred_at=datetime(2026, 12, 1, 9)))
    log_in(client, "anna")
    keys = client.get(f"{BASE}keys")
    send(client, "keys/new", keys, name="Webshop")
    settings = client.get(f"{BASE}settings")
    send(client, "settings", settings, name="Acme Logistics", timezone="Europe/Amsterdam")
    customer_form = client.get(f"{BASE}customers/new")
    send(client, "customers/new", customer_form, name="Made by Anna", language="en")

    first = client.get(f"{BASE}audit")
    texts = shown_texts(first.text)
    assert first.status_code == 200
    # Newest first, 50 to a page: Anna's three changes, then the older ones.
    whats = [t for t in texts if t.startswith(("created ", "changed "))]
    with database.engine.connect() as connection:
        named = connection.execute(sa.select(api_keys.c.name, api_keys.c.key_prefix))
        prefixes = {name: prefix for name, prefix in named}
    assert set(whats[:3]) == {
        "created customer Made by Anna",
        "changed the account's settings",
        f"created API key Webshop ({prefixes['Webshop']}…)",
    }
    assert whats[3:5] == [
        f"created API key tests ({prefixes['tests']}…)",
        "created customer Customer 55",
    ]
    assert len(re.findall(r'<p class="when">', first.text)) == 50
    assert "offset=50" in first.text
    second = client.get(f"{BASE}audit?offset=50")
    # 55 customers, 1 by Anna, a key, settings, 2 staff users, the tenant's key: 61.
    assert len(re.findall(r'<p class="when">', second.text)) == 11
    assert "created staff user anna" in shown_texts(second.text)
    assert "created customer Customer 01" in shown_texts(second.text)

    by_anna = client.get(f"{BASE}audit", params={"who": f"staff:{anna.iduser}"})
    assert len(re.findall(r'<p class="when">', by_anna.text)) == 3
    just_settings = client.get(f"{BASE}audit", params={"what": "settings"})
    entries = shown_texts(just_settings.text)
    assert entries.count("changed the account's settings") == 1
    assert "Acme BV" in entries
    assert "Acme Logistics" in entries
    keys_by_cli = client.get(f"{BASE}audit", params={"who": "command_line", "what": "api_key"})
    assert len(re.findall(r'<p class="when">', keys_by_cli.text)) == 1
    nothing = client.get(f"{BASE}audit", params={"who": f"staff:{piet.iduser}"})
    assert "No change matches these filters." in shown_texts(nothing.text)
    # Filters that mean nothing are no filter; never an error.
    for junk in ({"who": "staff:abc"}, {"what": "drop table"}, {"offset": "-5"}):
        assert client.get(f"{BASE}audit", params=junk).status_code == 200


@pytest.mark.parametrize("path", ["keys", "users", "audit"])
def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login(
    client: TestClient, tenant: Tenant, path: str
) -> None:
    answer = client.get(f"{BASE}{path}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{BASE}login"


def test_the_audit_log_names_what_the_customer_page_names(
    client: TestClient, tenant: Tenant, anna: User, database: Database
) -> None:
    """Shipping profiles, warehouses and templates by name; a value set at creation as set,
    not changed; two keys of one name told apart by their prefixes."""
    tenant.create_customer(
        name="Jansen", username="jansen", can_login=True, password="a password 1",
        allowed_shipping_profiles=[tenant.profiles[1]], preferred_idwarehouse=tenant.warehouse,
    )  # fmt: skip
    log_in(client, "anna")
    keys = client.get(f"{BASE}keys")
    send(client, "keys/new", keys, name="demo")
    send(client, "keys/new", keys, name="demo")
    texts = shown_texts(client.get(f"{BASE}audit").text)
    assert "PostNL · Signature" in texts
    assert "Main" in texts
    assert "Password set" in texts
    assert "Password changed" not in texts
    demos = sorted(t for t in texts if t.startswith("created API key demo"))
    assert len(demos) == 2
    assert demos[0] != demos[1]
    assert all(re.fullmatch(r"created API key demo \(fk_[\w-]+…\)", demo) for demo in demos)


def test_both_settings_errors_show_in_one_round(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    log_in(client, "anna")
    settings = client.get(f"{BASE}settings")
    refused = send(client, "settings", settings, name=" ", timezone="Mars/Olympus")
    assert refused.status_code == 400
    assert '<a href="#name">' in refused.text
    assert '<a href="#timezone">' in refused.text
    assert "<title>Error: Settings · Acme BV</title>" in refused.text
    assert client.get(f"{BASE}settings").text.count('value="Acme BV"') == 1
