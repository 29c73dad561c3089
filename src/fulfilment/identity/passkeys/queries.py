"""The statements behind passkeys, built once and compiled once per dialect."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from ...db import Query
from ...tables import passkey_challenges as challenges
from ...tables import passkeys

_p = sa.bindparam

_of_person = (
    passkeys.c.account_id == _p("account_id"),
    passkeys.c.person_type == _p("person_type"),
    passkeys.c.person_id == _p("person_id"),
)

# -- challenges ----------------------------------------------------------------------------

INSERT_CHALLENGE = sa.insert(challenges).values(
    challenge_hash=_p("challenge_hash"),
    account_id=_p("account_id"),
    purpose=_p("purpose"),
    person_type=_p("person_type"),
    person_id=_p("person_id"),
    user_handle=_p("user_handle"),
    session_hash=_p("session_hash"),
    expires_at=_p("expires_at"),
)
_challenge = (
    challenges.c.challenge_hash == _p("challenge_hash"),
    challenges.c.account_id == _p("account_id"),
    challenges.c.purpose == _p("purpose"),
    challenges.c.person_type == _p("person_type"),
    sa.func.coalesce(challenges.c.person_id, 0) == _p("person_id"),
    challenges.c.session_hash == _p("session_hash"),
    challenges.c.expires_at > _p("now"),
)
# Answering a challenge deletes it: the one deletion that finds it wins, every other
# answer with the same challenge finds nothing. Read first, deleted in the same
# transaction.


class Challenge(NamedTuple):
    user_handle: str | None


CHALLENGE = Query(sa.select(challenges.c.user_handle).where(*_challenge), Challenge)
TAKE_CHALLENGE = sa.delete(challenges).where(*_challenge)
DELETE_EXPIRED_CHALLENGES = sa.delete(challenges).where(challenges.c.expires_at <= _p("now"))

# -- passkeys ------------------------------------------------------------------------------


class PersonPasskey(NamedTuple):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    credential_id: str
    user_handle: str


class PasskeyId(NamedTuple):
    id: int


PERSON_PASSKEYS = Query(
    sa.select(
        passkeys.c.id,
        passkeys.c.name,
        passkeys.c.created_at,
        passkeys.c.last_used_at,
        passkeys.c.credential_id,
        passkeys.c.user_handle,
    )
    .where(*_of_person)
    .order_by(passkeys.c.id),
    PersonPasskey,
)
ANY_PASSKEY = Query(sa.select(passkeys.c.id).where(*_of_person).limit(1), PasskeyId)
INSERT_PASSKEY = sa.insert(passkeys).values(
    account_id=_p("account_id"),
    person_type=_p("person_type"),
    person_id=_p("person_id"),
    credential_id=_p("credential_id"),
    public_key=_p("public_key"),
    user_handle=_p("user_handle"),
    sign_count=_p("sign_count"),
    name=_p("name"),
    created_at=_p("created_at"),
)
CREDENTIAL_TAKEN = Query(
    sa.select(passkeys.c.id).where(passkeys.c.credential_id == _p("credential_id")), PasskeyId
)
# A login's passkey: named by the credential, within the account and the kind of person
# the page logs in.


class LoginPasskey(NamedTuple):
    id: int
    person_id: int
    public_key: str
    user_handle: str
    sign_count: int
    name: str


LOGIN_PASSKEY = Query(
    sa.select(
        passkeys.c.id,
        passkeys.c.person_id,
        passkeys.c.public_key,
        passkeys.c.user_handle,
        passkeys.c.sign_count,
        passkeys.c.name,
    ).where(
        passkeys.c.credential_id == _p("credential_id"),
        passkeys.c.account_id == _p("account_id"),
        passkeys.c.person_type == _p("person_type"),
    ),
    LoginPasskey,
)
# The counter moves on only from the value the check was made against: of two logins with
# the same answer at once, one finds the row changed.
USE_PASSKEY = (
    sa.update(passkeys)
    .where(passkeys.c.id == _p("id"), passkeys.c.sign_count == _p("old_count"))
    .values(sign_count=_p("new_count"), last_used_at=_p("now"))
)
# A reset of the second factor (a lost phone) forgets the person's passkeys too.
DELETE_PERSON_PASSKEYS = sa.delete(passkeys).where(*_of_person)


class PasskeyName(NamedTuple):
    name: str


PASSKEY_NAME = Query(
    sa.select(passkeys.c.name).where(*_of_person, passkeys.c.id == _p("id")), PasskeyName
)
DELETE_PASSKEY = sa.delete(passkeys).where(*_of_person, passkeys.c.id == _p("id"))
