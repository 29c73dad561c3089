"""Every change to a person's credentials or factors, in the audit trail of its kind: a
customer's own trail (and its webhook event, as any change of the customer), or the
account's audit log for a staff user. Written in the transaction of the change."""

from __future__ import annotations

from typing import Any

from ..accounts import audit as account_audit
from ..actors import Actor
from ..clock import utcnow
from ..customers import audit as customer_audit
from ..customers.service import announce_change
from ..db import Connection
from .kinds import CUSTOMER, Kind, Person

CHANGED = "changed"
# The customers' trail has a short action column and names its fields; the account's log
# names what happened to a staff user.
_CUSTOMER_CHANGES = {
    "set_password": {"password": CHANGED},
    "accept_invitation": {"password": CHANGED},
    "change_email": None,
    "enrol_second_factor": {"second_factor": {"from": False, "to": True}},
    "reset_second_factor": {"second_factor": {"from": True, "to": False}},
}


def by_self(kind: Kind, person: Person) -> Actor:
    """The person acting on its own behalf (a page, or a link mailed to it)."""
    name = person.username or ""
    return Actor.portal(person.id, name) if kind is CUSTOMER else Actor("staff", person.id, name)


async def record(
    connection: Connection,
    kind: Kind,
    account_id: int,
    person: Person,
    action: str,
    actor: Actor,
    changes: dict[str, Any] | None = None,
) -> None:
    """`action` (set_password, accept_invitation, change_email, enrol_2fa, reset_2fa) done
    to `person` by `actor`."""
    if kind is not CUSTOMER:
        name = person.username or ""
        await account_audit.record(
            connection, account_id, actor, "staff_user", person.id, name, action, changes
        )
        return
    changed = _CUSTOMER_CHANGES[action] or changes or {}
    await customer_audit.record(connection, account_id, person.id, "update", actor, changed)
    await announce_change(connection, account_id, person.id)


async def logged_in(connection: Connection, kind: Kind, account_id: int, person: Person) -> None:
    """The person's last login; a customer's login is in its trail."""
    await connection.execute(
        kind.statements.last_login, {"account_id": account_id, "id": person.id, "now": utcnow()}
    )
    if kind is CUSTOMER:
        actor = by_self(kind, person)
        await customer_audit.record(connection, account_id, person.id, "login", actor, {})
