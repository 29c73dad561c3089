"""Typed objects of the hooks API: a hook, its deliveries, and the bodies that change it."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "Hook",
    "HookAttempt",
    "HookCreate",
    "HookDelivery",
    "HookUpdate",
]


class Hook(msgspec.Struct, kw_only=True, frozen=True):
    """A subscription: deliveries of `event` to `address`."""

    idhook: int
    name: str
    event: str
    address: str
    active: bool = True
    secret: bool = False
    """Whether a secret is set; the secret itself is never answered."""
    created_at: str | None = None
    updated_at: str | None = None


class HookCreate(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    name: str
    event: str
    address: str
    secret: str | None = None

    def __repr__(self) -> str:
        return f"HookCreate(name={self.name!r}, event={self.event!r}, address={self.address!r})"


class HookUpdate(msgspec.Struct, kw_only=True, frozen=True):
    """Only the fields that are not UNSET are sent; a `secret` of None removes it."""

    name: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    secret: str | UnsetType | None = UNSET

    def __repr__(self) -> str:
        return f"HookUpdate(name={self.name!r}, address={self.address!r})"


class HookAttempt(msgspec.Struct, kw_only=True, frozen=True):
    attempted_at: str
    status: int | None = None
    duration_ms: int = 0
    error: str | None = None
    response: str | None = None


class HookDelivery(msgspec.Struct, kw_only=True, frozen=True):
    """One event for one hook and its attempts, newest first."""

    iddelivery: int
    webhook_id: str
    event: str
    event_triggered_at: str
    state: str
    """pending, delivered or failed."""
    next_attempt_at: str | None = None
    attempts: list[HookAttempt] = msgspec.field(default_factory=list)
