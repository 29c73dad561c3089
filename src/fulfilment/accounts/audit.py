"""The account's audit trail: who changed its API keys, hooks, staff users or settings, and
when, written in the same transaction as the change; and the audit log that shows these
with every customer change, newest first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import msgspec

from ..actors import Actor, encode
from ..clock import utcnow
from ..db import Connection, Database
from ..wire import format_datetime
from .queries import EVENTS_PAGE, INSERT_ACCOUNT_EVENT

# What the operator's commands are recorded as.
COMMAND_LINE = Actor("command_line", 0, "")
# What the service's own decisions are recorded as (a failing hook deactivated).
SYSTEM = Actor("system", 0, "")
SECRET_CHANGED = "changed"  # noqa: S105 - a marker, not a secret
# What the audit log can be filtered by: the kinds of change.
SUBJECTS = ("customer", "api_key", "hook", "staff_user", "settings")
LOG_PAGE_SIZE = 50

_changes = msgspec.json.Decoder(dict[str, object])


async def record(
    connection: Connection,
    account_id: int,
    actor: Actor,
    subject: str,
    subject_id: int | None,
    subject_name: str,
    action: str,
    changes: Mapping[str, object] | None = None,
) -> None:
    """One change to the account, by `actor`, in the caller's transaction."""
    await connection.execute(
        INSERT_ACCOUNT_EVENT,
        {
            "account_id": account_id,
            "subject": subject,
            "subject_id": subject_id,
            "subject_name": subject_name[:255],
            "action": action,
            "actor_type": actor.type,
            "actor_id": actor.id,
            "actor_name": actor.name[:255],
            "changes": encode(changes or {}),
            "occurred_at": utcnow(),
        },
    )


@dataclass(frozen=True, slots=True)
class Who:
    """The audit log's "who" filter: an actor type, and one id of it (or any, -1)."""

    type: str = ""
    id: int = -1

    @classmethod
    def parse(cls, raw: str | None) -> Who:
        """`staff:12`, `api_key:3`, `portal`, `command_line` or `system`; anything else is
        anyone."""
        kind, _, number = (raw or "").partition(":")
        if kind not in ("staff", "api_key", "portal", "command_line", "system"):
            return cls()
        if number.isascii() and number.isdigit() and len(number) <= 18:
            return cls(kind, int(number))
        return cls(kind) if not number else cls()

    @property
    def value(self) -> str:
        if not self.type:
            return ""
        return self.type if self.id == -1 else f"{self.type}:{self.id}"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One change, as the audit log shows it."""

    subject: str
    subject_id: int | None
    subject_name: str
    action: str
    actor: Actor
    changes: dict[str, object]
    occurred_at: str


async def log_page(
    database: Database,
    account_id: int,
    timezone: ZoneInfo,
    who: Who,
    what: str,
    offset: int,
) -> list[LogEntry]:
    """A page of the account's changes (customers' included), newest first."""
    values = {
        "account_id": account_id,
        "who_type": who.type,
        "who_id": who.id,
        "what": what if what in SUBJECTS else "",
        "upto": offset + LOG_PAGE_SIZE,
        "limit": LOG_PAGE_SIZE,
        "offset": offset,
    }
    rows = await database.read(lambda c: c.all(EVENTS_PAGE, values))
    return [
        LogEntry(
            subject=row.subject,
            subject_id=row.subject_id,
            subject_name=row.subject_name,
            action=row.action,
            actor=Actor(row.actor_type, row.actor_id, row.actor_name),
            changes=_changes.decode(row.changes),
            occurred_at=format_datetime(row.occurred_at, timezone) or "",
        )
        for row in rows
    ]
