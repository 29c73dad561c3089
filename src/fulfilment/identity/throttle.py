"""Throttling of everyone who logs in. Passwords: each attempt is counted before its
password is checked, per client address, per username and address, and per username.
Second-factor codes have counters of their own (per person and address, per person), which
a correct password never resets: re-entering the password buys no more guesses. Counters
live in this process, or in Redis when one is configured (the API's rate-limit mechanism)."""

from __future__ import annotations

import hashlib
from typing import Any

from ..fields import username_key
from ..ratelimit import Limit, SharedCounters
from ..settings import Settings, limit_item
from ..web.visits import PageVisit, Site


def _person(kind: str, account_id: int, username: str) -> str:
    # Keyed as the username is looked up (so no spelling of it gets a count of its own),
    # and hashed: the key stays short whatever was typed, and Redis holds no usernames.
    digest = hashlib.sha256(username_key(username).encode("utf-8", "replace")).hexdigest()
    return f"{kind}:{account_id}:{digest[:32]}"


class Throttle:
    """Reserves one attempt before a secret is checked, so that of any number of attempts
    at once at most the limit get a verification. The counters are taken in order: the
    client address's (passwords only), then the person's from that address (the low limit),
    then the person's from every address (a much higher ceiling). An attempt refused by one
    is not counted by the ones after it, so attempts from elsewhere reach the person's
    ceiling only after passing their own address's limits: one attacker cannot lock a
    person out with a few wrong guesses."""

    def __init__(
        self,
        settings: Settings,
        shared: SharedCounters | None,
        namespace: str,
        per_address: bool = True,
    ) -> None:
        items = [
            ("address", settings.portal_login_limit_per_address if per_address else None),
            ("user+address", settings.portal_login_limit_per_username_and_address),
            ("user", settings.portal_login_limit_per_username),
        ]
        self.limits: dict[str, Limit] = {}
        for kind, value in items:
            item = limit_item(value) if value is not None else None
            if item is not None:
                self.limits[kind] = Limit(item, f"{namespace}-{kind}", shared)

    @staticmethod
    def _keys(kind: str, account_id: int, username: str, address: str) -> dict[str, str]:
        person = _person(kind, account_id, username)
        return {
            "address": f"address:{address}",
            "user+address": f"{person}:address:{address}",
            "user": person,
        }

    async def attempt(self, kind: str, account_id: int, username: str, address: str) -> int | None:
        """Count one attempt; None when it may go ahead, else the seconds until one may."""
        keys = self._keys(kind, account_id, username, address)
        for name, limit in self.limits.items():
            quota = await limit.hit(keys[name])
            if not quota.allowed:
                return quota.retry_after
        return None

    async def succeeded(self, kind: str, account_id: int, username: str, address: str) -> None:
        """A correct secret wipes the person's counts of this throttle (not the address's,
        and never another throttle's)."""
        keys = self._keys(kind, account_id, username, address)
        for name in ("user+address", "user"):
            if name in self.limits:
                await self.limits[name].clear(keys[name])


class Throttles:
    """The two throttles of one site (`site`: portal or admin, counted apart): passwords,
    and second-factor codes."""

    def __init__(self, settings: Settings, site: str, shared: SharedCounters | None = None) -> None:
        namespace = f"fulfilment-{site}-login"
        self.passwords = Throttle(settings, shared, namespace)
        self.codes = Throttle(settings, shared, f"{namespace}-code", per_address=False)


class LoginSite(Site):
    """A set of pages whose visitors log in: its throttles live as long as the process."""

    throttles: Throttles


def throttles_of(visit: PageVisit[Any]) -> Throttles:
    site = visit.site
    assert isinstance(site, LoginSite)
    return site.throttles
