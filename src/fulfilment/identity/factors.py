"""Second factors: a TOTP seed (each code good once) and ten one-time recovery codes stored
only as hashes. A seed being set up, and the recovery codes until the page that shows them
once has read them, are kept in the person's row, encrypted: never in the session cookie."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Literal

import msgspec
import pyotp

from ..accounts.service import Account
from ..actors import Actor
from ..clock import utcnow
from ..db import Connection, Database
from ..encryption import SecretUnreadable, box_for
from ..pending_links import void_links
from . import audit
from .errors import SecondFactorUnreadable, TooManyAttempts, WrongCode
from .kinds import Kind, Person
from .passkeys import ceremony as passkeys
from .throttle import Throttle

log = logging.getLogger("fulfilment.identity")

RECOVERY_CODES = 10
# Ten characters of an alphabet without look-alikes (no 0/O, 1/I/L): about 50 bits each.
_RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_MAX = 64


class _Pending(msgspec.Struct, omit_defaults=True):
    """What factor_pending holds, sealed: a seed to confirm, or codes to show once."""

    secret: str | None = None
    codes: list[str] | None = None


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(_Pending).decode


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code `code` is, allowing one step of clock drift either way."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def recovery_hash(code: str) -> str:
    normalised = code.strip().replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalised.encode("utf-8", "replace")).hexdigest()


def new_recovery_codes() -> list[str]:
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        for _ in range(RECOVERY_CODES)
    ]
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _key(account: Account, person: Person, **values: object) -> dict[str, object]:
    return {"account_id": account.id, "id": person.id, **values}


def _opened(database: Database, person: Person) -> _Pending:
    if person.factor_pending is None:
        return _Pending()
    try:
        return _decode(box_for(database).open(person.factor_pending))
    except (SecretUnreadable, msgspec.DecodeError):
        return _Pending()


async def seed_to_confirm(database: Database, kind: Kind, account: Account, person: Person) -> str:
    """The TOTP seed being set up for `person`: the one kept for it, else a new one, kept
    (encrypted) until a code from it confirms it."""
    secret = _opened(database, person).secret
    if secret is not None:
        return secret
    secret = pyotp.random_base32()
    sealed = box_for(database).seal(_encode(_Pending(secret=secret)).decode())
    await database.write_statement(
        kind.statements.set_pending, _key(account, person, pending=sealed)
    )
    return secret


async def enrol(
    database: Database, kind: Kind, account: Account, person: Person, code: str, actor: Actor
) -> bool:
    """Turn on the seed being set up once `code` is one of its codes, with ten new recovery
    codes (kept to be shown once, see `take_codes`); False when the code is wrong."""
    secret = _opened(database, person).secret
    step = matching_step(secret, code) if secret is not None else None
    if secret is None or step is None:
        return False
    codes = new_recovery_codes()
    box = box_for(database)
    statements = kind.statements
    values = _key(
        account,
        person,
        secret=box.seal(secret),
        step=step,
        pending=box.seal(_encode(_Pending(codes=codes)).decode()),
        now=utcnow(),
    )

    async def store(connection: Connection) -> bool:
        if await connection.execute(statements.enrol, values) != 1:
            return False
        await connection.execute(statements.delete_codes, {"id": person.id})
        for recovery in codes:
            await connection.execute(
                statements.insert_code, {"id": person.id, "hash": recovery_hash(recovery)}
            )
        await audit.record(connection, kind, account.id, person, "enrol_second_factor", actor)
        return True

    return await database.write(store)


async def take_codes(
    database: Database, kind: Kind, account: Account, person: Person
) -> list[str] | None:
    """The recovery codes just made, once: a second look finds none."""
    codes = _opened(database, person).codes
    if codes is None:
        return None
    taken = _key(account, person, pending=person.factor_pending)
    if await database.write_statement(kind.statements.take_pending, taken) != 1:
        return None
    return codes


async def check_code(
    database: Database,
    throttle: Throttle,
    kind: Kind,
    account: Account,
    person: Person,
    code: str,
    address: str,
) -> Literal["totp", "recovery-code"]:
    """The second factor: a TOTP code ("totp") or a recovery code ("recovery-code"), each
    good once. Counted by the codes' own throttle, which a correct password never resets."""
    retry_after = await throttle.attempt(kind.name, account.id, person.username or "", address)
    if retry_after is not None:
        raise TooManyAttempts(retry_after, account)
    if person.totp_secret is None or len(code) > CODE_MAX:
        raise WrongCode()
    try:
        secret: str | None = box_for(database).open(person.totp_secret)
    except SecretUnreadable as unreadable:
        # The person cannot fix this, the operator can: a recovery code still works.
        log.error("%s %d's second factor: %s", kind.name, person.id, unreadable)
        secret = None
    statements = kind.statements
    step = matching_step(secret, code) if secret is not None else None
    used: Literal["totp", "recovery-code"] | None = None
    if step is not None:
        accepted = _key(account, person, step=step)
        if await database.write_statement(statements.accept_step, accepted):
            used = "totp"
    elif await database.write_statement(
        statements.use_code, {"id": person.id, "hash": recovery_hash(code)}
    ):
        used = "recovery-code"
    if used is None:
        raise WrongCode() if secret is not None else SecondFactorUnreadable()
    await throttle.succeeded(kind.name, account.id, person.username or "", address)
    return used


async def codes_left(database: Database, kind: Kind, person: Person) -> int:
    row = await database.read(lambda c: c.one(kind.statements.codes_left, {"id": person.id}))
    return int(row.codes) if row is not None else 0


async def reset(
    connection: Connection, kind: Kind, account_id: int, person: Person, actor: Actor
) -> None:
    """Forget the person's second factor (a lost phone), in the caller's transaction: it
    sets one up again at its next login, its sessions end and its pending links are void.
    Its passkeys go too: the lost phone may hold one."""
    key = {"account_id": account_id, "id": person.id, "now": utcnow()}
    await connection.execute(kind.statements.reset_factor, key)
    await connection.execute(kind.statements.delete_codes, {"id": person.id})
    await passkeys.forget_all(connection, kind, account_id, person.id)
    await void_links(connection, kind.name, account_id, person.id)
    await audit.record(connection, kind, account_id, person, "reset_second_factor", actor)
