"""Every word the back office shows comes from the catalogue of the page's language (the
catalogues themselves are checked in tests/portal/test_translations.py)."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.tables import api_keys
from tests.factories import Tenant
from tests.portal import helpers as portal
from tests.portal.helpers import untranslated

from .conftest import make_user
from .helpers import BASE, RECOVERY, SECRET, enrol, log_in, send

DATES = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_page_shows_only_catalogue_words(
    client: TestClient, tenant: Tenant, database: Database, language: str
) -> None:
    admin = language == "en"
    make_user(database, tenant, "staff", firstname="Sam", lastname="Jones", language=language,
              admin=admin)  # fmt: skip
    customer = tenant.create_customer(
        name="Jansen Tuinmeubelen", username="jansen", emailaddress="info@jansen.example",
        can_login=True, password=portal.PASSWORD, allowed_shipping_profiles=[tenant.profiles[0]],
        preferred_idwarehouse=tenant.warehouse, idtemplate=tenant.template,
    )  # fmt: skip
    portal.log_in(TestClient(client.app), "/portal/acme/", "jansen", portal.PASSWORD)
    customer_id = customer["idfulfilment_customer"]
    pages: list[httpx.Response] = [
        client.get(f"{BASE}login?lang={language}"),
        client.get(f"{BASE}login?notice=logged-out"),
        log_in(client, "staff", "wrong password", language=language),
        client.get(f"{BASE}no/such/page"),
    ]
    log_in(client, "staff", language=language)
    settings = client.get(f"{BASE}settings")
    enrolment = client.get(f"{BASE}enrol")
    secret_found = SECRET.search(enrolment.text)
    assert secret_found is not None
    pages += [settings, enrolment, send(client, "enrol", enrolment, code="000000")]
    _, codes = enrol(client)
    form = client.get(f"{BASE}customers/new")
    refused = send(client, "customers/new", form, name="", username=" x", emailaddress="no",
                   password="short", can_login="1", language="nl")  # fmt: skip
    generated = send(client, "customers/new", form, name="Nieuw BV", username="nieuw",
                     language="en", can_login="1", generate_password="1")  # fmt: skip
    generated = client.get(generated.headers["location"])
    detail = client.get(f"{BASE}customers/{customer_id}?notice=saved")
    edit = client.get(f"{BASE}customers/{customer_id}/edit")
    send(client, f"customers/{customer_id}/edit", edit, name="Jansen BV", language="en")
    pages += [
        client.get(f"{BASE}customers"),
        client.get(f"{BASE}customers?search=nothing+like+it"),
        client.get(f"{BASE}customers?offset=1000"),
        form,
        refused,
        generated,
        detail,
        edit,
        client.get(f"{BASE}customers/{customer_id}"),
        client.get(f"{BASE}customers/{customer_id}?notice=sessions-ended"),
        client.get(f"{BASE}customers/{customer_id}/end-sessions"),
        client.get(f"{BASE}settings?notice=settings-saved"),
        client.get(f"{BASE}customers/999999"),
    ]
    # An administrator's change is saved (and the page shown again); anyone else's refused.
    setting = send(client, "settings", settings, require_second_factor="1")
    assert setting.status_code in (303, 403), setting.text[-1500:]
    pages.append(client.get(setting.headers["location"]) if admin else setting)
    send(client, "logout", settings)
    log_in(client, "staff", language=language)
    code_page = client.get(f"{BASE}second-factor")
    pages += [code_page, send(client, "second-factor", code_page, code="000000")]
    data = [
        tenant.account.name, "Sam Jones", "Jansen Tuinmeubelen", "Jansen BV", "jansen",
        "info@jansen.example", "Nieuw BV", "nieuw", "Main", "PostNL", "Standard", "Signature",
        "Default", "staff", "x", "no", *codes, *(str(number) for number in range(1, 4)),
    ]  # fmt: skip
    for page in pages:
        assert f'<html lang="{language}">' in page.text, page.url
        shown = DATES.sub("", SECRET.sub("", RECOVERY.sub("", page.text)))
        shown = re.sub(r'<code class="secret">[^<]+</code>', "", shown)
        assert untranslated(shown, language, data) == [], page.url
    other = "en" if language == "nl" else "nl"
    assert untranslated(detail.text, other, data) != []


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_administrators_pages_show_only_catalogue_words(
    client: TestClient, tenant: Tenant, database: Database, language: str
) -> None:
    admin = make_user(database, tenant, "baas", firstname="Sam", lastname="Jones",
                      language=language, admin=True)  # fmt: skip
    other = make_user(database, tenant, "piet", firstname="Piet", lastname="Bakker")
    customer = tenant.create_customer(name="Jansen Tuinmeubelen", username="jansen")
    customer_id = customer["idfulfilment_customer"]
    log_in(client, "baas", language=language)
    keys = client.get(f"{BASE}keys")
    created = send(client, "keys/new", keys, name="Webshop", customer=str(customer_id))
    created = client.get(created.headers["location"])
    refused_key = send(client, "keys/new", keys, name="", customer="x")
    listing = client.get(f"{BASE}keys")
    key_id = re.findall(r"keys/(\d+)/revoke", listing.text)[0]
    questions = [client.get(f"{BASE}keys/{key_id}/revoke")]
    send(client, f"keys/{key_id}/revoke", listing)
    questions += [client.get(f"{BASE}users/{other.iduser}/{action}")
                  for action in ("deactivate", "reset-second-factor")]  # fmt: skip
    user_page = client.get(f"{BASE}users/{other.iduser}")
    send(client, f"users/{other.iduser}/admin", user_page, admin="1")
    send(client, f"users/{other.iduser}/admin", user_page, admin="0")
    send(client, f"users/{other.iduser}/deactivate", user_page)
    send(client, f"users/{other.iduser}/reactivate", user_page)
    send(client, f"users/{other.iduser}/reset-second-factor", user_page)
    settings = client.get(f"{BASE}settings")
    refused_settings = send(client, "settings", settings, name="", timezone="Nowhere/Else")
    send(client, "settings", settings, name="Acme Logistics", timezone="UTC",
         require_second_factor="1")  # fmt: skip
    # Required from now on: the open session sets its second factor up first.
    assert client.get(f"{BASE}customers").url.path == f"{BASE}enrol"
    enrol(client)
    edit = client.get(f"{BASE}customers/{customer_id}/edit")
    send(client, f"customers/{customer_id}/edit", edit, name="Jansen BV", language="en")
    pages: list[httpx.Response] = [
        keys, created, refused_key, listing, client.get(f"{BASE}keys?notice=key-revoked"),
        client.get(f"{BASE}keys?notice=key-shown"), *questions,
        client.get(f"{BASE}users"), user_page,
        send(client, f"users/{admin.iduser}/deactivate", user_page),
        *(client.get(f"{BASE}users/{other.iduser}?notice={notice}") for notice in (
            "deactivated", "reactivated", "admin-changed", "second-factor-reset")),
        client.get(f"{BASE}users/999999"),
        client.get(f"{BASE}keys/999999/revoke"),
        refused_settings, client.get(f"{BASE}settings?notice=settings-saved"),
        client.get(f"{BASE}audit"),
        client.get(f"{BASE}audit?who=portal&what=hook"),
        client.get(f"{BASE}audit?what=staff_user&who=staff:{admin.iduser}"),
    ]  # fmt: skip
    with database.engine.connect() as connection:
        prefixes = [row[0] for row in connection.execute(sa.select(api_keys.c.key_prefix))]
    data = [
        "Acme BV", "Acme Logistics", "Sam Jones", "Piet Bakker", "baas", "piet", "tests",
        "baas@warehouse.example", "piet@warehouse.example", "Jansen Tuinmeubelen", "Jansen BV",
        "jansen", "Webshop", "Europe/Amsterdam", "UTC", "Nowhere/Else", "x", "TIME", *prefixes,
        *(str(number) for number in range(1, 10)),
    ]  # fmt: skip
    for page in pages:
        assert f'<html lang="{language}">' in page.text, page.url
        # A time is data (and "revoked at" needs one to match its message).
        shown = DATES.sub("TIME", page.text)
        shown = re.sub(r'<code class="secret">[^<]+</code>', "", shown)
        shown = re.sub(r'<textarea id="curl"[^>]*>[^<]+</textarea>', "", shown)
        assert untranslated(shown, language, data) == [], page.url
    audit_page = client.get(f"{BASE}audit")
    other_language = "en" if language == "nl" else "nl"
    assert untranslated(DATES.sub("", audit_page.text), other_language, data) != []
