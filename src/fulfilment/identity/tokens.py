"""Links that work once and for a while: a random token goes into the mail, its SHA-256
into the database; following the link uses the row up in the same statement that finds it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

import sqlalchemy as sa

from ..clock import utcnow
from ..db import Connection, Query
from ..tables import one_time_tokens as tokens

# How long each kind of link works unless told (an invitation: FULFILMENT_INVITATION_DAYS).
LIFETIMES = {
    "password-reset": timedelta(hours=1),
    "email-change": timedelta(hours=1),
    "invitation": timedelta(days=7),
}
# A token is 256 random bits; longer text is no token of ours and is not looked up.
TOKEN_MAX = 64


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose link it is: a kind of person of an account, and its id."""

    account_id: int
    type: str
    id: int


class Redeemed(NamedTuple):
    """What a usable token stands for."""

    purpose: str
    subject_id: int
    emailaddress: str


_p = sa.bindparam
INSERT = sa.insert(tokens).values(
    account_id=_p("account_id"),
    purpose=_p("purpose"),
    subject_type=_p("subject_type"),
    subject_id=_p("subject_id"),
    token_hash=_p("token_hash"),
    emailaddress=_p("emailaddress"),
    created_at=_p("now"),
    expires_at=_p("expires_at"),
)
_usable = (
    tokens.c.token_hash == _p("token_hash"),
    tokens.c.account_id == _p("account_id"),
    tokens.c.subject_type == _p("subject_type"),
    # One purpose, or either of two (a password set through a reset or an invitation).
    tokens.c.purpose.in_([_p("purpose"), _p("or_purpose")]),
    tokens.c.used_at.is_(None),
    tokens.c.expires_at > _p("now"),
)
_columns = (tokens.c.purpose, tokens.c.subject_id, tokens.c.emailaddress)
PEEK = Query(sa.select(*_columns).where(*_usable), Redeemed)
# Using a token is one statement: of two requests with the same link, one gets the row.
USE = Query(
    sa.update(tokens).where(*_usable).values(used_at=_p("now")).returning(*_columns), Redeemed
)


def _hash(token: str) -> str:
    # 256 random bits need no slow hash: nobody can guess one from its SHA-256.
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def issue(
    connection: Connection,
    subject: Subject,
    purpose: str,
    emailaddress: str,
    lifetime: timedelta | None = None,
) -> str:
    """A new token for `purpose`, sent to `emailaddress`, working for `lifetime` (else the
    purpose's own); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await connection.execute(
        INSERT,
        {
            "account_id": subject.account_id,
            "purpose": purpose,
            "subject_type": subject.type,
            "subject_id": subject.id,
            "token_hash": _hash(token),
            "emailaddress": emailaddress,
            "now": now,
            "expires_at": now + (lifetime or LIFETIMES[purpose]),
        },
    )
    return token


def _key(
    account_id: int, subject_type: str, token: str, purposes: tuple[str, ...]
) -> dict[str, object]:
    return {
        "account_id": account_id,
        "subject_type": subject_type,
        "token_hash": _hash(token),
        "purpose": purposes[0],
        "or_purpose": purposes[-1],
        "now": utcnow(),
    }


def _plausible(token: str) -> bool:
    return 0 < len(token) <= TOKEN_MAX


async def peek(
    connection: Connection,
    account_id: int,
    subject_type: str,
    token: str,
    purposes: tuple[str, ...],
) -> Redeemed | None:
    """What the token stands for while it is usable, without using it up."""
    if not _plausible(token):
        return None
    key = _key(account_id, subject_type, token, purposes)
    return await connection.one(PEEK, key)


async def use(
    connection: Connection,
    account_id: int,
    subject_type: str,
    token: str,
    purposes: tuple[str, ...],
) -> Redeemed | None:
    """Use the token up; None when it is unknown, used, expired or for something else."""
    if not _plausible(token):
        return None
    key = _key(account_id, subject_type, token, purposes)
    return await connection.one(USE, key)
