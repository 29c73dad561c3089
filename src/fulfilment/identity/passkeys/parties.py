"""Whose passkeys a ceremony is about: a person of either kind, and how the audit trail
names it when it acts."""

from __future__ import annotations

from dataclasses import dataclass

from ...actors import Actor

# What the audit trail calls a person of each kind when it acts.
ACTORS = {"customer": "portal", "staff": "staff"}


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose passkeys: a portal customer (`type` "customer", `id` its idfulfilment_customer)
    or a staff user ("staff", its iduser) of an account, as identity/kinds.py names them."""

    account_id: int
    type: str
    id: int
    username: str

    @property
    def actor(self) -> Actor:
        return Actor(ACTORS[self.type], self.id, self.username)
