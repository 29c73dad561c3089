"""Throttling of logins (the portal's and the back office's): each attempt is counted,
before its password is checked,
per username and client address, per username, and per client address; counters in this
process, or shared through Redis when one is configured (the API's rate-limit mechanism)."""

from __future__ import annotations

import hashlib

from ..fields import username_key
from ..ratelimit import Limit, SharedCounters
from ..settings import Settings, limit_item

NAMESPACE = "fulfilment-portal-login"


def _username(account_id: int, username: str) -> str:
    # Keyed as the username is looked up (so no spelling of it gets a count of its own),
    # and hashed: the key stays short whatever was typed, and Redis holds no usernames.
    digest = hashlib.sha256(username_key(username).encode("utf-8", "replace")).hexdigest()
    return f"user:{account_id}:{digest[:32]}"


class LoginThrottle:
    """Reserves one attempt before a password is checked, so that of any number of attempts
    at once at most the limit get a verification. The counters are taken in order: the
    client address's, then the username's from that address (the low limit), then the
    username's from every address (a much higher ceiling). An attempt refused by one is
    not counted by the ones after it, so attempts from elsewhere reach the username's
    ceiling only after passing their own address's limits: one attacker cannot lock a
    customer out with a few wrong guesses."""

    def __init__(
        self, settings: Settings, shared: SharedCounters | None = None, namespace: str = NAMESPACE
    ) -> None:
        items = [
            ("address", settings.portal_login_limit_per_address),
            ("user+address", settings.portal_login_limit_per_username_and_address),
            ("user", settings.portal_login_limit_per_username),
        ]
        self.limits: dict[str, Limit] = {}
        for kind, value in items:
            item = limit_item(value)
            if item is not None:
                self.limits[kind] = Limit(item, f"{namespace}-{kind}", shared)

    @staticmethod
    def _keys(account_id: int, username: str, address: str) -> dict[str, str]:
        user = _username(account_id, username)
        return {
            "address": f"address:{address}",
            "user+address": f"{user}:address:{address}",
            "user": user,
        }

    async def attempt(self, account_id: int, username: str, address: str) -> int | None:
        """Count one attempt; None when it may go ahead, else the seconds until one may."""
        keys = self._keys(account_id, username, address)
        for kind, limit in self.limits.items():
            quota = await limit.hit(keys[kind])
            if not quota.allowed:
                return quota.retry_after
        return None

    async def succeeded(self, account_id: int, username: str, address: str) -> None:
        """A correct password wipes the username's counts (not the address's)."""
        keys = self._keys(account_id, username, address)
        for kind in ("user+address", "user"):
            if kind in self.limits:
                await self.limits[kind].clear(keys[kind])
