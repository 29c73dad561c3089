"""Wire shapes of a hook, its delivery log, and the payload POSTed to a hook's address."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from ..wire import DateTime

# -- written by scripts/structs.py from the tables of fields.py: do not edit --
CUSTOMER_CREATED = "fulfilment_customers.created"
CUSTOMER_CHANGED = "fulfilment_customers.changed"
PING = "ping"
# The events a hook subscribes to.
EVENTS = (CUSTOMER_CREATED, CUSTOMER_CHANGED)
Event = Literal["fulfilment_customers.created", "fulfilment_customers.changed"]


# -- end of what scripts/structs.py writes --

HookName = Annotated[str, Meta(min_length=1, max_length=255)]
Address = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=2048,
        description=(
            "An http or https URL whose host is not, and does not resolve to, a loopback, "
            "private, link-local, multicast or unspecified address."
        ),
    ),
]
Secret = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=255,
        description=(
            "Signs each delivery (X-Picqer-Signature and webhook-signature, keyed with its "
            "UTF-8 bytes). Write-only: stored encrypted, never answered."
        ),
    ),
]


class HookCreate(msgspec.Struct, kw_only=True):
    """Body of `POST /hooks`. Unknown fields are ignored."""

    name: HookName
    event: Event
    address: Address
    secret: Secret | None = None


class HookUpdate(msgspec.Struct, kw_only=True):
    """Body of `PUT /hooks/{idhook}`: the fields sent change, the others stay. A `secret`
    of null removes it."""

    name: HookName | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    secret: Secret | UnsetType | None = UNSET


class Hook(msgspec.Struct, kw_only=True):
    """A hook, as every hooks endpoint answers it."""

    idhook: int
    name: str
    event: str
    address: str
    active: bool
    secret: Annotated[bool, Meta(description="Whether a secret is set.")]
    created_at: DateTime
    updated_at: DateTime


class HookAttempt(msgspec.Struct, kw_only=True):
    """One attempt to deliver: when, the answer (or why there was none), how long it took."""

    attempted_at: DateTime
    status: Annotated[int | None, Meta(description="The HTTP status; null: no answer.")]
    duration_ms: int
    error: Annotated[str | None, Meta(description="What went wrong, in words.")]
    response: Annotated[str | None, Meta(description="The start of the answer's body.")]


class HookDelivery(msgspec.Struct, kw_only=True):
    """One event for one hook, and every attempt to deliver it, newest first."""

    iddelivery: int
    webhook_id: Annotated[str, Meta(description="The `webhook-id` header of every attempt.")]
    event: str
    event_triggered_at: DateTime
    state: Literal["pending", "delivered", "failed"]
    next_attempt_at: DateTime | None
    attempts: list[HookAttempt]


class HookPayload(msgspec.Struct, kw_only=True):
    """The body POSTed to a hook's address."""

    idhook: int
    name: str
    event: str
    event_triggered_at: DateTime
    data: Annotated[
        dict[str, Any],
        Meta(
            description=(
                "The fulfilment customer exactly as GET answered it right after the change "
                "(`{}` for `ping`)."
            )
        ),
    ]
