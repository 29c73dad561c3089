"""Counting hits in windows: the API's rate limit per key and the portal's login throttle.
Counters live in this process by default, and are shared through Redis (with the `limits`
library) by every worker and instance when `FULFILMENT_REDIS_URL` is set. Redis holds
counters, not data: while it does not answer, each process counts on its own again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from limits import RateLimitItem, parse, storage
from limits.aio import strategies

from .errors import RateLimited
from .observability import RATE_LIMITED, REDIS_FALLBACK_HITS, REDIS_OUTAGES
from .settings import Settings, SettingsError

if TYPE_CHECKING:
    import redis.asyncio

log = logging.getLogger("fulfilment.redis")

# A Redis that does not answer costs the requests in flight at that moment this long at
# most (a connect, or a reply); later ones count in this process without asking it.
REDIS_TIMEOUT_SECONDS = 0.25
# While Redis is away, how often it is asked whether it answers again.
REDIS_PROBE_SECONDS = 1.0


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

    def clear(self, name: str) -> None:
        """Forget `name`'s hits."""
        with self._lock:
            self._names.pop(name, None)

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


# -- shared through Redis, with a way round it ----------------------------------------------

T = TypeVar("T")


class SharedCounters:
    """The Redis that every process's counters are shared through, with a circuit breaker.

    Redis is only ever waited for on the event loop (redis.asyncio), at most
    `REDIS_TIMEOUT_SECONDS` a call. A call that fails or times out marks Redis away: from
    then on every hit is counted in this process at once, and a background task asks Redis
    once every `REDIS_PROBE_SECONDS` until it answers, when the shared counters take over
    again. Each outage is logged once (and once when it ends), and counted in /metrics."""

    def __init__(self, url: str) -> None:
        # Imported only where Redis is used: about 5 MB in every worker otherwise.
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        try:
            self.pool: redis.asyncio.ConnectionPool = redis.asyncio.ConnectionPool.from_url(
                url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),  # the breaker decides when to ask again
            )
            options: dict[str, Any] = {"implementation": "redispy", "connection_pool": self.pool}
            self.storage: Any = storage.storage_from_string(f"async+{url}", **options)
        except Exception as error:  # a URL neither redis-py nor `limits` can use
            raise SettingsError(f"FULFILMENT_REDIS_URL cannot be used: {error}") from None
        self.client = redis.asyncio.Redis(connection_pool=self.pool)
        self.up = True
        self._probe: asyncio.Task[None] | None = None

    async def call(self, work: Callable[[], Awaitable[T]]) -> T | None:
        """`work()`'s answer, or None when Redis is away (known before, or found now)."""
        if not self.up:
            return None
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 2):
                return await work()
        except Exception as error:  # redis-py's errors and timeouts alike
            self._went_away(error)
            return None

    async def reachable(self) -> bool:
        """Whether Redis answers: a PING, unless it is already known to be away."""
        return await self.call(self.client.ping) is not None

    def _went_away(self, error: Exception) -> None:
        if not self.up:
            return
        self.up = False
        REDIS_OUTAGES.inc()
        # The error names the host and port, never the URL's password.
        log.warning(
            "Redis cannot be reached (%s: %s); counting in this process until it answers",
            type(error).__name__,
            error,
        )
        self._probe = asyncio.get_running_loop().create_task(self._wait_for_redis())

    async def _wait_for_redis(self) -> None:
        while True:
            # Connections from before the outage may lead to a Redis that is gone.
            await self.pool.disconnect()
            await asyncio.sleep(REDIS_PROBE_SECONDS)
            with contextlib.suppress(Exception):  # still away: ask again
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 2):
                    await self.client.ping()
                    break
        self.up = True
        self._probe = None
        log.warning("Redis answers again; the shared counters are used again")

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None
        await self.pool.disconnect()


STRATEGIES: dict[str, tuple[type[LocalWindows[Any]], type[strategies.RateLimiter]]] = {
    # Exact: at most N in any window-long span. Keeps one entry per request in the window.
    "moving-window": (LocalMovingWindow, strategies.MovingWindowRateLimiter),
    # Constant memory, a weighted estimate across two fixed windows.
    "sliding-window": (LocalSlidingWindow, strategies.SlidingWindowCounterRateLimiter),
    "fixed-window": (LocalFixedWindow, strategies.FixedWindowRateLimiter),
}


class Limit:
    """One limit (`amount` per period), counted per name: through Redis when one is
    configured and answers, else in this process. A hit is one atomic step either way, so
    it can reserve an attempt: of any number at once, at most `amount` are allowed."""

    def __init__(
        self,
        item: RateLimitItem,
        namespace: str,
        shared: SharedCounters | None,
        strategy: str = "moving-window",
    ) -> None:
        local, remote = STRATEGIES[strategy]
        self.item = item
        self.namespace = namespace
        self.shared = shared
        self.local = local(item.amount, item.get_expiry())
        self.remote = remote(shared.storage) if shared is not None else None

    async def hit(self, name: str) -> Quota:
        if self.shared is not None:
            quota = await self.shared.call(lambda: self._shared_hit(name))
            if quota is not None:
                return quota
            REDIS_FALLBACK_HITS.inc()
        return self.local.hit(name)

    async def _shared_hit(self, name: str) -> Quota:
        assert self.remote is not None
        allowed = await self.remote.hit(self.item, self.namespace, name)
        stats = await self.remote.get_window_stats(self.item, self.namespace, name)
        wait = stats.reset_time - time.time()
        return Quota(allowed, self.item.amount, max(0, stats.remaining), _seconds(wait))

    async def clear(self, name: str) -> None:
        self.local.clear(name)
        if self.shared is not None and self.remote is not None:
            remote = self.remote
            await self.shared.call(lambda: remote.clear(self.item, self.namespace, name))


def shared_counters(settings: Settings) -> SharedCounters | None:
    return SharedCounters(settings.redis_url) if settings.redis_url else None


class RateLimiter:
    """One per process. `check(name)` counts a request against `name`'s budget."""

    def __init__(
        self,
        settings: Settings,
        shared: SharedCounters | None = None,
        namespace: str = "fulfilment-api",
    ) -> None:
        item = settings.api_rate_limit
        self.enabled = item is not None
        self.item: RateLimitItem = item if item is not None else parse("1/second")
        self.limit = Limit(self.item, namespace, shared, settings.rate_limit_strategy)

    async def hit(self, name: str) -> Quota | None:
        """Count one request; None when rate limiting is switched off."""
        return await self.limit.hit(name) if self.enabled else None

    async def check(self, name: str) -> Quota | None:
        """Count one request and refuse it with 429 past the limit."""
        quota = await self.hit(name)
        if quota is not None and not quota.allowed:
            RATE_LIMITED.inc()
            error = RateLimited(
                f"Rate limit of {self.item} exceeded; retry in {quota.retry_after} seconds.",
                quota.retry_after,
            )
            error.headers = quota.headers
            raise error
        return quota
