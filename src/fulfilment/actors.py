"""Who made a change, as every audit trail records it, and how a change is stored there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from .auth import Principal


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: an API key, a staff user in the back office, or the customer
    itself through the portal."""

    type: str
    id: int
    name: str

    @classmethod
    def api_key(cls, principal: Principal) -> Actor:
        """The caller behind `principal`: its API key, or the staff user of the back office
        that acts through it."""
        if principal.staff_user is not None:
            return cls("staff", *principal.staff_user)
        return cls("api_key", principal.api_key_id, principal.api_key_name)

    @classmethod
    def portal(cls, customer_id: int, username: str) -> Actor:
        return cls("portal", customer_id, username)


def encode(changed: Mapping[str, object]) -> str:
    """The stored form of an event's changes."""
    return msgspec.json.encode(changed).decode()
