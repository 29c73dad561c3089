"""Rate limiting per API key: counters in this process by default, shared through Redis (with
the `limits` library) by every worker and instance when `FULFILMENT_REDIS_URL` is set."""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from limits import RateLimitItem, parse, storage, strategies
from limits.errors import ConfigurationError

from .errors import RateLimited, ServiceUnavailable
from .observability import RATE_LIMITED
from .settings import Settings, SettingsError

DISABLED = {"", "0", "off", "none"}
# A Redis that does not answer must fail the request quickly, not hang it.
REDIS_TIMEOUTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}


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


def _seconds(delay: float) -> int:
    """Retry-After: the first whole second after `delay` (at the moment itself a sliding
    window is still full), whatever the rounding of the float arithmetic before."""
    return max(1, math.floor(delay + 1e-6) + 1)


class Windows(Protocol):
    def hit(self, name: str) -> Quota: ...

    def reachable(self) -> bool: ...


# -- in this process -------------------------------------------------------------------------


State = TypeVar("State")


class LocalWindows(ABC, Generic[State]):
    """Counters for one limit, kept in this process: a dictionary lookup and a little
    arithmetic a request, no thread of their own. Names whose window has passed are swept
    out once a period, so memory follows the callers of the last period, not of all time."""

    def __init__(self, amount: int, period: float, clock: Callable[[], float] = time.time):
        self.amount = amount
        self.period = period
        self.clock = clock
        self._lock = threading.Lock()
        self._sweep_at = clock() + period
        self._names: dict[str, State] = {}

    def __len__(self) -> int:
        """How many names are counted."""
        return len(self._names)

    def hit(self, name: str) -> Quota:
        now = self.clock()
        with self._lock:
            if now >= self._sweep_at:
                self._sweep(now)
                self._sweep_at = now + self.period
            allowed, remaining, wait = self._hit(name, now)
        return Quota(allowed, self.amount, remaining, _seconds(wait))

    def reachable(self) -> bool:
        return True

    @abstractmethod
    def _hit(self, name: str, now: float) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until a refused hit would be allowed)."""

    @abstractmethod
    def _sweep(self, now: float) -> None:
        """Forget the names whose every hit is older than the window."""


class LocalMovingWindow(LocalWindows[deque[float]]):
    """Exact: at most `amount` hits in any span of `period`. Keeps each allowed hit's time
    for one period (per name, oldest first), so its memory grows with the limit."""

    def _hit(self, name: str, now: float) -> tuple[bool, int, float]:
        hits = self._names.get(name)
        if hits is None:
            hits = self._names[name] = deque()
        horizon = now - self.period
        while hits and hits[0] <= horizon:
            hits.popleft()
        if len(hits) >= self.amount:
            return False, 0, hits[0] - horizon
        hits.append(now)
        return True, self.amount - len(hits), 0.0

    def _sweep(self, now: float) -> None:
        horizon = now - self.period
        self._names = {name: hits for name, hits in self._names.items() if hits[-1] > horizon}


class LocalSlidingWindow(LocalWindows[list[int]]):
    """Constant memory: windows aligned on multiples of `period`; the previous window's count
    weighs as much as the part of it the last `period` still covers. Per name: [window
    number, hits in the previous window, hits in this one]."""

    def _hit(self, name: str, now: float) -> tuple[bool, int, float]:
        window, into = divmod(now, self.period)
        number = int(window)
        counts = self._names.get(name)
        if counts is None:
            counts = self._names[name] = [number, 0, 0]
        elif counts[0] != number:
            previous = counts[2] if counts[0] == number - 1 else 0
            counts[:] = [number, previous, 0]
        _, previous, current = counts
        left = 1.0 - into / self.period  # the share of the previous window still counted
        if math.floor(previous * left + current) >= self.amount:
            return False, 0, self._wait(previous, current, into)
        counts[2] = current = current + 1
        return True, max(0, self.amount - math.floor(previous * left + current)), 0.0

    def _wait(self, previous: int, current: int, into: float) -> float:
        """Until the weighted count drops below the limit: later in this window while the
        previous one's share is what fills it, else just after this window (whose count is
        never above the limit: only allowed hits are counted)."""
        if current < self.amount:
            return (1.0 - (self.amount - current) / previous) * self.period - into
        return self.period - into

    def _sweep(self, now: float) -> None:
        number = int(now // self.period)
        self._names = {name: c for name, c in self._names.items() if c[0] >= number - 1}


class LocalFixedWindow(LocalWindows[list[float]]):
    """`amount` hits per window; a window starts with the first hit after the last one
    ended. Per name: [end of the window, hits in it]."""

    def _hit(self, name: str, now: float) -> tuple[bool, int, float]:
        window = self._names.get(name)
        if window is None or window[0] <= now:
            window = self._names[name] = [now + self.period, 0]
        if window[1] >= self.amount:
            return False, 0, window[0] - now
        window[1] += 1
        return True, self.amount - int(window[1]), 0.0

    def _sweep(self, now: float) -> None:
        self._names = {name: w for name, w in self._names.items() if w[0] > now}


# -- shared through Redis -------------------------------------------------------------------


class SharedWindows:
    """One budget per name across every process, kept in Redis by `limits`."""

    def __init__(
        self, item: RateLimitItem, strategy: type[strategies.RateLimiter], url: str, namespace: str
    ) -> None:
        self.item = item
        self.namespace = namespace
        try:
            self.storage: Any = storage.storage_from_string(url, **REDIS_TIMEOUTS)
        except ConfigurationError as error:
            raise SettingsError(f"FULFILMENT_REDIS_URL: {error}") from None
        self.strategy = strategy(self.storage)

    def hit(self, name: str) -> Quota:
        try:
            allowed = self.strategy.hit(self.item, self.namespace, name)
            stats = self.strategy.get_window_stats(self.item, self.namespace, name)
        except Exception as error:  # the storage's own errors: Redis down, timeouts
            raise ServiceUnavailable(
                "Rate limiting is unavailable right now; try again shortly."
            ) from error
        wait = stats.reset_time - time.time()
        return Quota(allowed, self.item.amount, max(0, stats.remaining), _seconds(wait))

    def reachable(self) -> bool:
        try:
            return bool(self.storage.check())
        except Exception:
            return False


STRATEGIES: dict[str, tuple[type[LocalWindows[Any]], type[strategies.RateLimiter]]] = {
    # Exact: at most N in any window-long span. Keeps one entry per request in the window.
    "moving-window": (LocalMovingWindow, strategies.MovingWindowRateLimiter),
    # Constant memory, a weighted estimate across two fixed windows.
    "sliding-window": (LocalSlidingWindow, strategies.SlidingWindowCounterRateLimiter),
    "fixed-window": (LocalFixedWindow, strategies.FixedWindowRateLimiter),
}


class RateLimiter:
    """One per process. `check(name)` counts a request against `name`'s budget."""

    def __init__(self, settings: Settings, namespace: str = "fulfilment-api") -> None:
        self.enabled = settings.rate_limit.strip().lower() not in DISABLED
        try:
            self.item: RateLimitItem = parse(settings.rate_limit if self.enabled else "1/second")
            local, shared = STRATEGIES[settings.rate_limit_strategy]
        except (ValueError, KeyError):
            raise SettingsError(
                "FULFILMENT_RATE_LIMIT must look like `500/minute` and "
                f"FULFILMENT_RATE_LIMIT_STRATEGY be one of {', '.join(STRATEGIES)}"
            ) from None
        self.windows: Windows = (
            SharedWindows(self.item, shared, settings.redis_url, namespace)
            if settings.redis_url
            else local(self.item.amount, self.item.get_expiry())
        )

    def hit(self, name: str) -> Quota | None:
        """Count one request; None when rate limiting is switched off."""
        return self.windows.hit(name) if self.enabled else None

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
