"""The two WebAuthn ceremonies, for a person of either kind: the options a browser needs to
make or use a passkey, and checking what the authenticator answered (py_webauthn does the
cryptography). Challenges are kept server-side, good once and for a few minutes; a
passkey's signature counter must move on at every use.

py_webauthn, and the cryptography, CBOR and ASN.1 libraries it loads (about 14 MB), are
imported by the ceremonies themselves: a worker that serves only the API never holds them."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from ...accounts import audit
from ...clock import as_datetime, utcnow
from ...db import Connection, Database
from ...web.relying_party import RelyingParty
from ..kinds import Kind, Person
from . import queries
from .errors import PasskeyLimit, PasskeyNameInvalid, PasskeyRefused
from .parties import Owner

# How long a ceremony may take, from the options to the answer.
CEREMONY_SECONDS = 300
# Passkeys per person: enough for every device one has, and a bound on the list.
MAX_PASSKEYS = 20
NAME_MAX = 100
# What the audit log calls the kinds of person.
SUBJECTS = {"customer": "customer", "staff": "staff_user"}

_json = msgspec.json.Decoder(dict[str, Any])


@dataclass(frozen=True, slots=True)
class Passkey:
    """A passkey as its owner's list shows it."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _hash(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(raw).hexdigest()


async def _keep_challenge(
    database: Database,
    challenge: bytes,
    account_id: int,
    purpose: str,
    person_type: str,
    person_id: int | None,
    session_token: str,
    user_handle: str | None = None,
) -> None:
    now = utcnow()
    values = {
        "challenge_hash": _hash(challenge),
        "account_id": account_id,
        "purpose": purpose,
        "person_type": person_type,
        "person_id": person_id,
        "user_handle": user_handle,
        "session_hash": _hash(session_token),
        "expires_at": now + timedelta(seconds=CEREMONY_SECONDS),
    }

    async def keep(connection: Connection) -> None:
        # The expired ones go as new ones come: the table holds minutes of ceremonies.
        await connection.execute(queries.DELETE_EXPIRED_CHALLENGES, {"now": now})
        await connection.execute(queries.INSERT_CHALLENGE, values)

    await database.write(keep)


def _answered_challenge(credential: dict[str, Any]) -> bytes:
    """The challenge the browser signed, read from its client data (checked again, with
    everything else, by the library)."""
    from webauthn.helpers import base64url_to_bytes

    try:
        response = credential["response"]
        client_data = _json.decode(base64url_to_bytes(response["clientDataJSON"]))
        return base64url_to_bytes(client_data["challenge"])
    except (KeyError, TypeError, ValueError, msgspec.DecodeError):
        raise PasskeyRefused() from None


def _credential(raw: str) -> dict[str, Any]:
    if not raw or len(raw) > 12_000:
        raise PasskeyRefused()
    try:
        return _json.decode(raw)
    except msgspec.DecodeError:
        raise PasskeyRefused() from None


async def _take_challenge(
    database: Database,
    challenge: bytes,
    account_id: int,
    purpose: str,
    person_type: str,
    person_id: int | None,
    session_token: str,
) -> str | None:
    """Use up the challenge, in a transaction of its own (a refused answer uses it up too):
    its user handle, or PasskeyRefused when it is unknown, used, expired, or was asked for
    by another session or for another purpose."""
    values = {
        "challenge_hash": _hash(challenge),
        "account_id": account_id,
        "purpose": purpose,
        "person_type": person_type,
        "person_id": person_id or 0,
        "session_hash": _hash(session_token),
        "now": utcnow(),
    }

    async def take(connection: Connection) -> tuple[bool, str | None]:
        row = await connection.one(queries.CHALLENGE, values)
        if row is None or await connection.execute(queries.TAKE_CHALLENGE, values) != 1:
            return False, None
        return True, row.user_handle

    taken, handle = await database.write(take)
    if not taken:
        raise PasskeyRefused()
    return handle


# -- registering ---------------------------------------------------------------------------


async def has_passkey(database: Database, kind: Kind, account_id: int, person_id: int) -> bool:
    """Whether the person has a passkey: a second factor it can log in with."""
    values = {"account_id": account_id, "person_type": kind.name, "person_id": person_id}
    return await database.read(lambda c: c.one(queries.ANY_PASSKEY, values)) is not None


async def passkeys_of(database: Database, person: Owner) -> list[Passkey]:
    rows = await database.read(lambda c: c.all(queries.PERSON_PASSKEYS, _owner(person)))
    return [
        Passkey(
            row.id, row.name, as_datetime(row.created_at) or utcnow(), as_datetime(row.last_used_at)
        )
        for row in rows
    ]


def _owner(person: Owner) -> dict[str, Any]:
    return {"account_id": person.account_id, "person_type": person.type, "person_id": person.id}


async def registration_options(
    database: Database, relying: RelyingParty, person: Owner, session_token: str
) -> str:
    """The options (JSON) for `navigator.credentials.create`: a discoverable credential,
    verified by the authenticator, on none of the person's authenticators already used."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    rows = await database.read(lambda c: c.all(queries.PERSON_PASSKEYS, _owner(person)))
    if len(rows) >= MAX_PASSKEYS:
        raise PasskeyLimit(max=MAX_PASSKEYS)
    # One handle per person: an authenticator keeps one passkey per site and handle.
    handle = rows[0].user_handle if rows else bytes_to_base64url(secrets.token_bytes(32))
    options = generate_registration_options(
        rp_id=relying.id,
        rp_name=relying.name,
        user_name=person.username,
        user_id=base64url_to_bytes(handle),
        user_display_name=person.username,
        timeout=CEREMONY_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            # The authenticator checks that it is the person (a PIN, a fingerprint): a
            # passkey is then both factors, so it satisfies a required second factor.
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(row.credential_id)) for row in rows
        ],
    )
    await _keep_challenge(
        database,
        options.challenge,
        person.account_id,
        "register",
        person.type,
        person.id,
        session_token,
        handle,
    )
    return options_to_json(options)


def check_name(name: str) -> str:
    """A passkey's name: trimmed, 1 to 100 characters, none of them control or invisible."""
    name = name.strip()
    if not 0 < len(name) <= NAME_MAX or any(
        unicodedata.category(character)[0] in "CZ" and character != " " for character in name
    ):
        raise PasskeyNameInvalid(max=NAME_MAX)
    return name


async def register(
    database: Database,
    relying: RelyingParty,
    person: Owner,
    session_token: str,
    name: str,
    answer: str,
) -> None:
    """Check the authenticator's answer to this session's registration challenge and keep
    the new passkey under `name`, with an entry in the audit log."""
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException

    name = check_name(name)
    credential = _credential(answer)
    challenge = _answered_challenge(credential)

    handle = await _take_challenge(
        database, challenge, person.account_id, "register", person.type, person.id,
        session_token,
    )  # fmt: skip
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=relying.id,
            expected_origin=relying.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise PasskeyRefused() from None
    credential_id = bytes_to_base64url(verified.credential_id)
    values = {
        **_owner(person),
        "credential_id": credential_id,
        "public_key": bytes_to_base64url(verified.credential_public_key),
        "user_handle": handle,
        "sign_count": verified.sign_count,
        "name": name,
        "created_at": utcnow(),
    }

    async def keep(connection: Connection) -> bool:
        if await connection.one(queries.CREDENTIAL_TAKEN, {"credential_id": credential_id}):
            return False
        await connection.execute(queries.INSERT_PASSKEY, values)
        await _audit(connection, person, "passkey_register", name)
        return True

    if not await database.write(keep):
        raise PasskeyRefused()


async def forget_all(connection: Connection, kind: Kind, account_id: int, person_id: int) -> None:
    """Remove every passkey of the person, in the caller's transaction (a reset of its
    second factor: the lost phone may hold one)."""
    values = {"account_id": account_id, "person_type": kind.name, "person_id": person_id}
    await connection.execute(queries.DELETE_PERSON_PASSKEYS, values)


async def remove(database: Database, person: Owner, passkey_id: int) -> bool:
    """Remove one of the person's passkeys, with an entry in the audit log; False when it
    has none of that number."""
    values = {**_owner(person), "id": passkey_id}

    async def delete(connection: Connection) -> bool:
        row = await connection.one(queries.PASSKEY_NAME, values)
        if row is None or await connection.execute(queries.DELETE_PASSKEY, values) != 1:
            return False
        await _audit(connection, person, "passkey_remove", row.name)
        return True

    return await database.write(delete)


async def _audit(connection: Connection, person: Owner, action: str, name: str) -> None:
    await audit.record(
        connection,
        person.account_id,
        person.actor,
        SUBJECTS[person.type],
        person.id,
        person.username,
        action,
        {"passkey": name},
    )


# -- logging in ----------------------------------------------------------------------------


async def login_options(
    database: Database, relying: RelyingParty, account_id: int, kind: Kind, session_token: str
) -> str:
    """The options (JSON) for `navigator.credentials.get`: no credentials named, so the
    browser offers the passkeys it holds for this site (no username typed)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=relying.id,
        timeout=CEREMONY_SECONDS * 1000,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    await _keep_challenge(
        database, options.challenge, account_id, "login", kind.name, None, session_token
    )
    return options_to_json(options)


async def authenticate(
    database: Database,
    relying: RelyingParty,
    account_id: int,
    kind: Kind,
    session_token: str,
    answer: str,
) -> Person:
    """Check the authenticator's answer to this session's login challenge: the challenge
    good once, the passkey one of this account's people of `kind`, the signature
    good, its counter moved on, the person still allowed to log in: that person. Records
    the use; finishing the login is the identity kernel's (`login.proved`)."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    credential = _credential(answer)
    challenge = _answered_challenge(credential)
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or len(credential_id) > 1400:
        raise PasskeyRefused()

    await _take_challenge(database, challenge, account_id, "login", kind.name, None, session_token)
    key = {"credential_id": credential_id, "account_id": account_id, "person_type": kind.name}
    passkey = await database.read(lambda c: c.one(queries.LOGIN_PASSKEY, key))
    if passkey is None:
        raise PasskeyRefused()
    response = credential.get("response")
    returned_handle = response.get("userHandle") if isinstance(response, dict) else None
    if returned_handle is not None and returned_handle != passkey.user_handle:
        raise PasskeyRefused()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=relying.id,
            expected_origin=relying.origin,
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError):
        # A bad signature, or a counter that did not move on: a copied authenticator.
        raise PasskeyRefused() from None
    used = {"id": passkey.id, "old_count": passkey.sign_count, "new_count": verified.new_sign_count}

    async def record(connection: Connection) -> Person | None:
        # The counter moves on from the value checked, or the login is refused: of two
        # answers checked at once, only one gets here first.
        if await connection.execute(queries.USE_PASSKEY, {**used, "now": utcnow()}) != 1:
            return None
        values = {"account_id": account_id, "id": passkey.person_id}
        person = await connection.one(kind.statements.by_id, values)
        if person is None or not person.may_log_in:
            return None
        owner = Owner(account_id, kind.name, person.id, person.username or "")
        await _audit(connection, owner, "passkey_login", passkey.name)
        return person

    person = await database.write(record)
    if person is None:
        raise PasskeyRefused()
    return person
