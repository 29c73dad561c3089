"""Second factors, on both sites: their own guess counters, the seed kept server-side, the
requirement reaching open sessions, and customers setting one up too."""

from __future__ import annotations

import json
import time

import msgspec
import pyotp
import sqlalchemy as sa
from msgspec.structs import replace
from starlette.testclient import TestClient
from webauthn.helpers import bytes_to_base64url

from fulfilment.app import create_app
from fulfilment.clock import utcnow
from fulfilment.settings import Settings
from fulfilment.tables import fulfilment_customers, passkey_challenges, passkeys, staff_users

from .helpers import Site


def test_a_correct_password_does_not_refill_the_second_factor_guesses(site: Site) -> None:
    assert site.log_in().status_code == 303
    site.enrol()
    site.client.cookies.clear()
    answers = []
    # Each round re-enters the (correct) password, then guesses a code: the password's
    # success must not wipe the codes' counters (5 per person and address).
    for _ in range(7):
        assert site.log_in().headers["location"] == f"{site.base}second-factor"
        answers.append(site.send_code("000000").status_code)
    assert answers == [401] * 5 + [429] * 2


def test_the_codes_ceiling_per_person_holds_across_addresses(
    site: Site, settings: Settings
) -> None:
    assert site.log_in().status_code == 303
    secret, _ = site.enrol()
    limited = replace(settings, portal_login_limit_per_username="8/15 minutes")
    with TestClient(create_app(limited), client=("192.0.2.1", 5000)) as first:
        second = TestClient(first.app, client=("192.0.2.2", 5000))
        site.log_in(client=first)
        assert [site.send_code("000000", first).status_code for _ in range(6)] == [401] * 5 + [429]
        site.log_in(client=second)
        answers = [site.send_code("000000", second).status_code for _ in range(4)]
        # Five from the first address, three from the second: the person's ceiling of 8.
        assert answers == [401, 401, 401, 429]
        # Even the right code waits now: the counters are the person's, not the guesser's.
        assert site.send_code(pyotp.TOTP(secret).now(), second).status_code == 429


def test_the_seed_being_set_up_is_kept_encrypted_on_the_server(site: Site) -> None:
    assert site.log_in().status_code == 303
    page = site.client.get(f"{site.base}enrol")
    assert page.status_code == 200
    secret = page.text.split("<code>")[1].split("</code>")[0].replace(" ", "")
    cookies = list(site.client.cookies.values())
    assert all(secret not in cookie for cookie in cookies)
    signer = (
        site.client.app.state.portal if site.name == "portal" else site.client.app.state.back_office
    ).signer
    [session] = [signer.loads(cookie) for cookie in cookies if signer.loads(cookie)]
    assert session.person == site.person_id
    assert secret not in msgspec.json.encode(session).decode()
    table = fulfilment_customers if site.name == "portal" else staff_users
    with site.database.engine.connect() as connection:
        stored = connection.execute(sa.select(table.c.factor_pending)).scalars().all()
    kept = [value for value in stored if value]
    assert len(kept) == 1
    assert secret not in kept[0]
    # The same seed on a second look: the one kept is the one a code must come from.
    again = site.client.get(f"{site.base}enrol").text
    assert secret in again.replace(" ", "")


def test_requiring_a_second_factor_reaches_open_sessions(site: Site) -> None:
    assert site.log_in().status_code == 303
    assert site.client.get(site.base, follow_redirects=False).status_code in (200, 303)
    site.require_second_factor()
    # The next request of the session already open leads to setting one up.
    answer = site.client.get(f"{site.base}email", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{site.base}enrol"
    page = site.client.get(f"{site.base}enrol")
    assert "requires two-step verification" in page.text
    site.enrol()
    assert site.client.get(f"{site.base}email").status_code == 200


def test_a_login_asks_for_the_second_factor_once_set_up(site: Site) -> None:
    assert site.log_in().status_code == 303
    secret, codes = site.enrol()
    site.client.cookies.clear()
    assert site.log_in().headers["location"] == f"{site.base}second-factor"
    # Not logged in between the password and the code.
    assert site.client.get(f"{site.base}email", follow_redirects=False).status_code == 303
    # The set-up used the current time step's code: the next step's is good once.
    assert site.send_code(pyotp.TOTP(secret).at(time.time() + 30)).status_code == 303
    assert site.client.get(f"{site.base}email").status_code == 200
    site.client.cookies.clear()
    site.log_in()
    assert site.send_code(codes[0]).status_code == 303
    # The second factor's set-up is in the person's audit trail.
    assert any("second_factor" in action for action in site.audit_actions())


def test_a_wrong_code_is_shown_in_the_form_pattern(site: Site) -> None:
    assert site.log_in().status_code == 303
    site.enrol()
    site.client.cookies.clear()
    site.log_in()
    wrong = site.send_code("123")
    assert wrong.status_code == 401
    assert "<title>Error: " in wrong.text
    assert '<a href="#code">' in wrong.text
    assert 'id="code-error"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text


def test_a_wrong_code_while_setting_up_is_shown_in_the_form_pattern(site: Site) -> None:
    assert site.log_in().status_code == 303
    page = site.client.get(f"{site.base}enrol")
    wrong = site.send("enrol", page, code="000000")
    assert wrong.status_code == 400
    assert "<title>Error: " in wrong.text
    assert '<a href="#code">' in wrong.text
    assert 'id="code-error"' in wrong.text
    # Nothing was turned on: the page still offers the same key.
    assert site.client.get(f"{site.base}enrol").status_code == 200


def test_a_passkey_instead_of_the_app_with_a_bad_answer_changes_nothing(site: Site) -> None:
    """The set-up page offers a passkey instead of the authenticator app; what it refuses
    leaves the login where it was: waiting for a second factor, nothing stored."""
    site.require_second_factor()
    assert site.log_in().headers["location"] == f"{site.base}enrol"
    page = site.client.get(f"{site.base}enrol")
    assert f'action="{site.base}enrol/passkey"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    options = site.send("enrol/passkey-options", page)
    assert options.status_code == 200
    assert options.json()["user"]["name"] == "jansen"
    challenge = options.json()["challenge"]
    client_data = {"type": "webauthn.create", "challenge": challenge, "origin": "http://x"}
    forged = {
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {
            "clientDataJSON": bytes_to_base64url(json.dumps(client_data).encode()),
            "attestationObject": "AAAA",
        },
    }
    refused = site.send("enrol/passkey", page, passkey_name="Phone", credential=json.dumps(forged))
    assert refused.status_code == 401
    assert "<h1>Set up two-step verification</h1>" in refused.text
    assert "The passkey was not accepted. Please try again." in refused.text
    unnamed = site.send("enrol/passkey", page, passkey_name=" ", credential="{}")
    assert unnamed.status_code == 400
    assert '<a href="#passkey_name">' in unnamed.text
    expired = site.client.post(
        f"{site.base}enrol/passkey",
        data={"csrf_token": "x", "passkey_name": "Phone", "credential": "{}"},
        follow_redirects=False,
    )
    assert expired.status_code == 400

    # Still waiting for the second factor: not logged in, and nothing stored or audited.
    answer = site.client.get(f"{site.base}email", follow_redirects=False)
    assert answer.headers["location"] == f"{site.base}login"
    assert site.client.get(f"{site.base}enrol").status_code == 200
    with site.database.engine.connect() as connection:
        assert connection.execute(sa.select(passkeys.c.id)).all() == []
    assert not any("passkey" in action for action in site.audit_actions())


def test_a_login_waiting_for_its_code_cannot_make_a_passkey_instead(site: Site) -> None:
    """A person with a second factor is asked for it: a passkey made after the password
    alone would go round it."""
    assert site.log_in().status_code == 303
    site.enrol()
    site.client.cookies.clear()
    assert site.log_in().headers["location"] == f"{site.base}second-factor"
    page = site.client.get(f"{site.base}second-factor")
    assert site.send("enrol/passkey-options", page).status_code == 400
    sent = site.send("enrol/passkey", page, passkey_name="Phone", credential="{}")
    assert sent.headers["location"] == f"{site.base}login"
    with site.database.engine.connect() as connection:
        assert connection.execute(sa.select(passkey_challenges.c.challenge_hash)).all() == []


def test_a_password_alone_does_not_lead_past_a_passkey_to_another_factor(site: Site) -> None:
    """The account requires a second factor and the person's is a passkey: whoever knows
    only the password is refused, rather than sent to set up a factor of their own."""
    site.require_second_factor()
    passkey = {
        "account_id": site.tenant.account.id,
        "person_type": "customer" if site.name == "portal" else "staff",
        "person_id": site.person_id, "credential_id": "phone", "public_key": "AAAA",
        "user_handle": "BBBB", "sign_count": 0, "name": "Phone", "created_at": utcnow(),
    }  # fmt: skip
    with site.database.engine.begin() as connection:
        connection.execute(sa.insert(passkeys).values(**passkey))

    answer = site.log_in()

    assert answer.status_code == 401
    assert "log in with your passkey" in answer.text
    # No session came of it: the set-up page sends the visitor to log in.
    enrol = site.client.get(f"{site.base}enrol", follow_redirects=False)
    assert enrol.status_code == 303
    assert enrol.headers["location"].endswith("login")
    with site.database.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(passkeys)).scalar() == 1
