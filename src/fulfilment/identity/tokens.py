"""Links that work once and for a while: a random token goes into the mail, its SHA-256
into the database; following the link uses the row up in the same statement that finds it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..clock import utcnow
from ..db import Connection, Row
from ..mail import queries

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


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What a usable token stands for."""

    purpose: str
    subject_id: int
    emailaddress: str


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
        queries.TOKEN_INSERT,
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


def _redeemed(row: Row | None) -> Redeemed | None:
    return Redeemed(row[0], row[1], row[2]) if row is not None else None


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
    return _redeemed(await connection.one(queries.TOKEN_PEEK, key))


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
    return _redeemed(await connection.one(queries.TOKEN_USE, key))
