"""Throttling of failed portal logins, per username and per client address, with the
`limits` library: in-process counters, or shared through Redis when one is configured."""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse, storage, strategies

from ..errors import ServiceUnavailable
from ..ratelimit import DISABLED, REDIS_TIMEOUTS
from ..settings import Settings, SettingsError

NAMESPACE = "fulfilment-portal-login"


def _item(value: str, variable: str) -> RateLimitItem | None:
    if value.strip().lower() in DISABLED:
        return None
    try:
        return parse(value)
    except ValueError:
        raise SettingsError(f"{variable} must look like `5/15 minutes`, not {value!r}") from None


class LoginThrottle:
    """Counts failed logins. A login is refused, before its password is checked, while the
    username or the address has used up its failures within the moving window."""

    def __init__(self, settings: Settings) -> None:
        self.per_username = _item(
            settings.portal_login_limit_per_username,
            "FULFILMENT_PORTAL_LOGIN_LIMIT_PER_USERNAME",
        )
        self.per_address = _item(
            settings.portal_login_limit_per_address, "FULFILMENT_PORTAL_LOGIN_LIMIT_PER_ADDRESS"
        )
        self.storage = (
            storage.storage_from_string(settings.redis_url, **REDIS_TIMEOUTS)
            if settings.redis_url
            else storage.storage_from_string("memory://")
        )
        self.strategy = strategies.MovingWindowRateLimiter(self.storage)

    @staticmethod
    def username_key(account_id: int, username: str) -> str:
        # Hashed: the key stays short whatever was typed, and Redis holds no usernames.
        digest = hashlib.sha256(username.casefold().encode("utf-8", "replace")).hexdigest()
        return f"user:{account_id}:{digest[:32]}"

    @staticmethod
    def address_key(address: str) -> str:
        return f"address:{address}"

    def _counters(
        self, account_id: int, username: str, address: str
    ) -> list[tuple[RateLimitItem, str]]:
        counters = []
        if self.per_username is not None:
            counters.append((self.per_username, self.username_key(account_id, username)))
        if self.per_address is not None:
            counters.append((self.per_address, self.address_key(address)))
        return counters

    def _unavailable(self, error: Exception) -> Exception:
        """In-process counters do not fail; a shared store that does is a 503, not a 500."""
        if self.storage.__class__.__name__ == "MemoryStorage":
            return error
        return ServiceUnavailable("Login throttling is unavailable right now.")

    def retry_after(self, account_id: int, username: str, address: str) -> int | None:
        """Seconds until another attempt is allowed, or None when one is allowed now."""
        try:
            waits = [
                math.ceil(
                    self.strategy.get_window_stats(item, NAMESPACE, key).reset_time - time.time()
                )
                for item, key in self._counters(account_id, username, address)
                if not self.strategy.test(item, NAMESPACE, key)
            ]
        except Exception as error:  # the storage's own errors: Redis down, timeouts
            raise self._unavailable(error) from error
        return max(1, *waits) if waits else None

    def failed(self, account_id: int, username: str, address: str) -> None:
        try:
            for item, key in self._counters(account_id, username, address):
                self.strategy.hit(item, NAMESPACE, key)
        except Exception as error:
            raise self._unavailable(error) from error

    def succeeded(self, account_id: int, username: str) -> None:
        """A correct password wipes the username's failures (not the address's)."""
        if self.per_username is None:
            return
        try:
            self.strategy.clear(
                self.per_username, NAMESPACE, self.username_key(account_id, username)
            )
        except Exception as error:
            raise self._unavailable(error) from error
