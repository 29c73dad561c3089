"""Throttling of mails people ask for (a forgotten password, a new address): per client
address, and per recipient, with the counters of the API's rate limit (in this process, or
shared through Redis)."""

from __future__ import annotations

import hashlib

from ..ratelimit import Limit, SharedCounters
from ..settings import Settings, limit_item

NAMESPACE = "fulfilment-mail"


class MailThrottle:
    def __init__(self, settings: Settings, shared: SharedCounters | None = None) -> None:
        self.per_address: Limit | None = None
        self.per_recipient: Limit | None = None
        address = limit_item(settings.mail_limit_per_address)
        if address is not None:
            self.per_address = Limit(address, f"{NAMESPACE}-address", shared)
        recipient = limit_item(settings.mail_limit_per_recipient)
        if recipient is not None:
            self.per_recipient = Limit(recipient, f"{NAMESPACE}-recipient", shared)

    async def asked_from(self, address: str) -> int | None:
        """Count a request from a client address; None when it may go ahead, else the
        seconds until one may."""
        if self.per_address is None:
            return None
        quota = await self.per_address.hit(f"address:{address}")
        return None if quota.allowed else quota.retry_after

    async def may_mail(self, recipient: str) -> bool:
        """Count a mail to `recipient`; whether it may be sent. Counted only for addresses
        that are known, and never told to the visitor, so it tells nobody which are."""
        if self.per_recipient is None:
            return True
        # Hashed: the key stays short, and Redis holds no addresses.
        digest = hashlib.sha256(recipient.casefold().encode("utf-8", "replace")).hexdigest()
        return (await self.per_recipient.hit(f"recipient:{digest[:32]}")).allowed
