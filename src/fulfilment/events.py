"""The event table: each event a webhook hears, declared once. The constants and the `Event`
type of the server (hooks/schemas.py) and of the client (client/_models.py) are written from
it by scripts/structs.py; the pages name each event by its label. Standard library only,
like fields.py."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import N_


@dataclass(frozen=True, slots=True)
class Event:
    name: str  # on the wire
    constant: str  # its name in Python
    label: str | None  # its words on the pages, as a key of their catalogues
    subscribed: bool = True  # False: not an event a hook subscribes to (`ping`)


EVENTS: tuple[Event, ...] = (
    Event("fulfilment_customers.created", "CUSTOMER_CREATED", N_("A customer is created")),
    Event("fulfilment_customers.changed", "CUSTOMER_CHANGED", N_("A customer is changed")),
    Event("ping", "PING", None, subscribed=False),
)
EVENT_LABELS = {event.name: event.label for event in EVENTS if event.label is not None}
