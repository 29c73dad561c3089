"""Rate limiting per API key with the `limits` library: in-process counters by default,
shared through Redis by every worker and instance when `FULFILMENT_REDIS_URL` is set."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse, storage, strategies
from limits.errors import ConfigurationError

from .errors import RateLimited, ServiceUnavailable
from .observability import RATE_LIMITED
from .settings import Settings, SettingsError

STRATEGIES: dict[str, Callable[[Any], strategies.RateLimiter]] = {
    # Exact: at most N in any window-long span. Keeps one entry per request in the window.
    "moving-window": strategies.MovingWindowRateLimiter,
    # Constant memory, a weighted estimate across two fixed windows.
    "sliding-window": strategies.SlidingWindowCounterRateLimiter,
    "fixed-window": strategies.FixedWindowRateLimiter,
}
DISABLED = {"", "0", "off", "none"}


@dataclass(frozen=True, slots=True)
class Quota:
    """What one hit left: the headers every answer carries."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int

    @property
    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers of an allowed request, as ASGI sends them."""
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
        ]


def storage_url(settings: Settings) -> str:
    return settings.redis_url or "memory://"


class RateLimiter:
    """One per process. `hit(name)` counts a request against `name`'s window."""

    def __init__(self, settings: Settings, namespace: str = "fulfilment-api") -> None:
        self.enabled = settings.rate_limit.strip().lower() not in DISABLED
        self.namespace = namespace
        try:
            self.item: RateLimitItem = parse(settings.rate_limit if self.enabled else "1/second")
            strategy = STRATEGIES[settings.rate_limit_strategy]
        except (ValueError, KeyError):
            raise SettingsError(
                "FULFILMENT_RATE_LIMIT must look like `500/minute` and "
                f"FULFILMENT_RATE_LIMIT_STRATEGY be one of {', '.join(STRATEGIES)}"
            ) from None
        try:
            options = (
                # A Redis that does not answer must fail the request quickly, not hang it.
                {"socket_timeout": 1.0, "socket_connect_timeout": 1.0} if settings.redis_url else {}
            )
            self.storage = storage.storage_from_string(storage_url(settings), **options)
        except ConfigurationError as error:
            raise SettingsError(f"FULFILMENT_REDIS_URL: {error}") from None
        self.strategy = strategy(self.storage)

    def hit(self, name: str) -> Quota | None:
        """Count one request; None when rate limiting is switched off."""
        if not self.enabled:
            return None
        try:
            allowed = self.strategy.hit(self.item, self.namespace, name)
            stats = self.strategy.get_window_stats(self.item, self.namespace, name)
        except Exception as error:  # the storage's own errors: Redis down, timeouts
            if self.storage.__class__.__name__ == "MemoryStorage":
                raise
            raise ServiceUnavailable(
                "Rate limiting is unavailable right now; try again shortly."
            ) from error
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return Quota(allowed, self.item.amount, max(0, stats.remaining), retry_after)

    def check(self, name: str) -> Quota | None:
        """Count one request and refuse it with 429 past the limit."""
        quota = self.hit(name)
        if quota is not None and not quota.allowed:
            RATE_LIMITED.inc()
            error = RateLimited(
                f"Rate limit of {self.item} exceeded; retry in {quota.retry_after} seconds.",
                quota.retry_after,
            )
            error.headers = quota.headers
            raise error
        return quota
