"""The passkey rules that need no authenticator: the relying-party id of each address,
challenges (good once, for one session, for a few minutes), names, and bad answers
refused with a clear page on both sites, nothing stored."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from fulfilment.clock import utcnow
from fulfilment.db import Database
from fulfilment.identity.kinds import CUSTOMER
from fulfilment.identity.passkeys import ceremony
from fulfilment.identity.passkeys.errors import PasskeyNameInvalid, PasskeyRefused
from fulfilment.staff import service as staff
from fulfilment.tables import account_events, passkey_challenges, passkeys
from fulfilment.web.relying_party import RelyingParty, relying_party_id
from tests.admin.conftest import make_user
from tests.factories import Tenant
from tests.portal.helpers import PASSWORD, form_token, log_in

HOST = {"host": "acme.fulfilment.test", "accept-language": "en"}
SITES = ["/portal/acme/", "/admin/acme/"]
PUBLIC_URL = "https://fulfilment.example.com/"


@pytest.mark.parametrize(
    ("host", "public_url", "expected"),
    [
        # The account's own host and the shared host share the passkey's domain.
        ("acme.example.com", None, "example.com"),
        ("example.com", None, "example.com"),
        ("ACME.Example.COM.", None, "example.com"),
        # Another account's label is not stripped: that host is a shared one to this account.
        ("other.example.com", None, "other.example.com"),
        # A one-label rest is no domain to share.
        ("acme.localhost", None, "acme.localhost"),
        # FULFILMENT_PUBLIC_URL names the shared host, for every host below it.
        (
            "acme.fulfilment.example.com",
            "https://fulfilment.example.com/",
            "fulfilment.example.com",
        ),
        ("fulfilment.example.com", "https://fulfilment.example.com", "fulfilment.example.com"),
        ("elsewhere.test", "https://fulfilment.example.com", "elsewhere.test"),
        # WebAuthn works on domains only.
        ("127.0.0.1", None, None),
        ("::1", None, None),
        ("[::1]", None, None),
    ],
)
def test_the_relying_party_id(host: str, public_url: str | None, expected: str | None) -> None:
    assert relying_party_id(host, "acme", public_url) == expected


def test_a_name_is_short_plain_text() -> None:
    assert ceremony.check_name("  Work laptop ") == "Work laptop"
    assert ceremony.check_name("é" * 100) == "é" * 100
    for bad in ("", "   ", "x" * 101, "line\nbreak", "zero\u200bwidth", "tab\there"):
        with pytest.raises(PasskeyNameInvalid):
            ceremony.check_name(bad)


def _rows(database: Database, statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def _client_data(challenge: str) -> str:
    data = {"type": "webauthn.get", "challenge": challenge, "origin": "http://x"}
    return bytes_to_base64url(json.dumps(data).encode())


def test_a_challenge_is_good_once_for_its_session_and_for_minutes(
    database: Database, tenant: Tenant
) -> None:
    relying = RelyingParty("fulfilment.test", "http://acme.fulfilment.test", "Acme BV")
    account = tenant.account.id

    async def new_challenge(session: str) -> bytes:
        options = json.loads(
            await ceremony.login_options(database, relying, account, CUSTOMER, session)
        )
        challenge: bytes = base64url_to_bytes(options["challenge"])
        return challenge

    async def take(challenge: bytes, session: str, kind: str = "customer") -> bool:
        try:
            await ceremony._take_challenge(
                database, challenge, account, "login", kind, None, session
            )
        except PasskeyRefused:
            return False
        return True

    async def run() -> None:
        first = await new_challenge("session one")
        assert not await take(first, "session two")  # another browser's answer
        assert not await take(first, "session one", kind="staff")  # the other site
        assert await take(first, "session one")
        assert not await take(first, "session one")  # used up

        late = await new_challenge("session one")
        await database.write(
            lambda c: c.execute(
                sa.update(passkey_challenges).values(expires_at=utcnow() - timedelta(seconds=1)),
                {},
            )
        )
        assert not await take(late, "session one")
        # Expired ones go as new ones come.
        await new_challenge("session one")
        assert len(_rows(database, sa.select(passkey_challenges.c.expires_at))) == 1

    asyncio.run(run())


@pytest.mark.parametrize("base", SITES)
def test_bad_answers_get_a_clear_page_and_change_nothing(
    client: TestClient, tenant: Tenant, database: Database, base: str
) -> None:
    page = client.get(f"{base}login", headers=HOST)
    assert page.status_code == 200
    assert "passkey/login" in page.text
    token = form_token(page.text)

    # Options only for this session's form.
    refused = client.post(f"{base}passkey/login-options", data={"csrf_token": "x"}, headers=HOST)
    assert refused.status_code == 400
    options = client.post(f"{base}passkey/login-options", data={"csrf_token": token}, headers=HOST)
    assert options.status_code == 200
    assert options.headers["content-type"] == "application/json"
    challenge = options.json()["challenge"]
    assert options.json()["rpId"] == "fulfilment.test"
    assert options.json()["userVerification"] == "required"
    assert "allowCredentials" not in options.json() or options.json()["allowCredentials"] == []

    answers = [
        "",
        "not json",
        "[]",
        json.dumps({"id": "x"}),
        json.dumps({"id": "x", "response": {"clientDataJSON": "%%%"}}),
        json.dumps({"id": 5, "response": {"clientDataJSON": _client_data(challenge)}}),
        json.dumps(
            {
                "id": "AAAA",
                "rawId": "AAAA",
                "type": "public-key",
                "response": {
                    "clientDataJSON": _client_data(challenge),
                    "authenticatorData": "AAAA",
                    "signature": "AAAA",
                },
            }
        ),
        "x" * 13_000,
    ]
    for answer in answers:
        sent = client.post(
            f"{base}passkey/login",
            data={"csrf_token": token, "credential": answer},
            headers=HOST,
            follow_redirects=False,
        )
        assert sent.status_code == 401, (answer[:40], sent.text)
        assert "The passkey was not accepted. Please try again." in sent.text
    expired = client.post(
        f"{base}passkey/login", data={"csrf_token": "x", "credential": "{}"}, headers=HOST
    )
    assert expired.status_code == 400
    assert (
        client.get(f"{base}passkey/login", headers=HOST, follow_redirects=False).status_code == 303
    )

    audited = sa.select(account_events.c.id).where(account_events.c.action.like("passkey%"))
    assert _rows(database, sa.select(passkeys.c.id)) == []
    assert _rows(database, audited) == []


def test_an_address_offers_no_passkeys_and_runs_no_script(
    client: TestClient, tenant: Tenant
) -> None:
    tenant.create_customer(name="Jansen", username="jansen", can_login=True, password=PASSWORD)
    for headers in ({"host": "127.0.0.1:8000"}, HOST):
        page = client.get("/portal/acme/login", headers=headers)
        offered = "passkey.js" in page.text
        assert offered == (headers is HOST)
        policy = page.headers["content-security-policy"]
        assert ("script-src 'self'" in policy) == offered
    # Pages that offer no passkey keep the policy without scripts.
    forgot = client.get("/portal/acme/forgot", headers=HOST)
    assert "script-src" not in forgot.headers["content-security-policy"]
    logged_in = log_in(client, "/portal/acme/", "jansen", PASSWORD, **HOST)
    assert logged_in.status_code == 303
    home = client.get("/portal/acme/", headers=HOST)
    assert 'href="/portal/acme/passkeys"' in home.text
    assert "script-src" not in home.headers["content-security-policy"]
    listed = client.get("/portal/acme/passkeys", headers=HOST)
    assert "U hebt geen passkeys." in listed.text
    assert "passkey.js" in listed.text
    assert "script-src 'self'" in listed.headers["content-security-policy"]
    script = client.get("/portal/passkey.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert client.get("/admin/passkey.js").content == script.content


def test_a_reset_of_the_second_factor_forgets_the_passkeys(
    database: Database, tenant: Tenant
) -> None:
    """A lost phone may hold a passkey: resetting the second factor removes them all (of
    that person only)."""
    anna = make_user(database, tenant, "anna")
    piet = make_user(database, tenant, "piet")

    def add(iduser: int, credential_id: str) -> None:
        values = {
            "account_id": tenant.account.id, "person_type": "staff", "person_id": iduser,
            "credential_id": credential_id, "public_key": "AAAA", "user_handle": "BBBB",
            "sign_count": 0, "name": "Phone", "created_at": utcnow(),
        }  # fmt: skip
        database.write_sync(lambda c: c.execute(sa.insert(passkeys).values(**values), {}))

    add(anna.iduser, "anna-phone")
    add(anna.iduser, "anna-laptop")
    add(piet.iduser, "piet-phone")
    database.write_sync(lambda c: staff.reset_second_factor(c, tenant.account, "anna"))
    assert _rows(database, sa.select(passkeys.c.credential_id)) == [("piet-phone",)]
