"""One attempt at a delivery: the payload, the POST to the address that was checked, and
the outcome in words for the delivery log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import msgspec

from ..clock import as_datetime, utcnow
from ..db import Database
from ..encryption import SecretUnreadable, box_for
from ..jobs.handler import NoPlace
from ..wire import format_datetime
from . import addresses, signing
from .service import webhook_id

if TYPE_CHECKING:
    import httpx

    from ..jobs.handler import Places
    from .queries import ClaimedRow
    from .transport import DeliveryTransport

log = logging.getLogger("fulfilment.hooks")

TIMEOUT_SECONDS = 10.0
# Attempts to one address (scheme, host and port) at once.
PER_ADDRESS = 8
# Transports kept, one per address (the least recently used is closed).
TRANSPORTS = 1024
RESPONSE_EXCERPT = 1000
# A checked address is used again for this long before its name is resolved again.
RESOLVED_SECONDS = 5.0


class _Payload(msgspec.Struct):
    idhook: int
    name: str
    event: str
    event_triggered_at: str
    data: msgspec.Raw


_encoder = msgspec.json.Encoder()


@dataclass(slots=True)
class Delivery:
    """A claimed delivery, with what its attempt needs."""

    iddelivery: int
    idhook: int
    event: str
    data: str
    triggered_at: datetime
    attempts: int
    name: str
    address: str
    secret: str | None
    timezone: str
    account_id: int

    @classmethod
    def from_row(cls, row: ClaimedRow) -> Delivery:
        triggered = as_datetime(row.triggered_at)
        assert triggered is not None
        return cls(
            iddelivery=row.iddelivery,
            idhook=row.idhook,
            event=row.event,
            data=row.data,
            triggered_at=triggered,
            attempts=row.attempts,
            name=row.name,
            address=row.address,
            secret=row.secret,
            timezone=row.timezone,
            account_id=row.account_id,
        )

    @property
    def id(self) -> int:
        return self.iddelivery

    def body(self) -> bytes:
        moment = format_datetime(self.triggered_at, ZoneInfo(self.timezone)) or ""
        payload = _Payload(self.idhook, self.name, self.event, moment, msgspec.Raw(self.data))
        return _encoder.encode(payload)


@dataclass(slots=True)
class Outcome:
    attempted_at: datetime
    duration_ms: int = 0
    status: int | None = None
    error: str | None = None
    response: str | None = None
    # What the attempt is waiting for, if anything: a connection to the address.
    waiting: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Route:
    """Where a hook's deliveries go: the address checked, the URL with the IP address that
    was checked in place of the name (the connection goes there, not to whatever the name
    resolves to a moment later), and the Host header that names it (as TLS does, in SNI
    and the certificate check)."""

    target: addresses.Target
    url: httpx.URL
    host: str

    @classmethod
    def to(cls, address: str, target: addresses.Target) -> Route:
        import httpx

        url = httpx.URL(address)
        pinned = url.copy_with(host=str(target.ips[0]))
        return cls(target, pinned, url.netloc.decode("ascii"))


class Sender:
    """Makes attempts, each within `timeout` seconds, keeping a transport per address."""

    def __init__(self, database: Database, timeout: float) -> None:
        self.database = database
        self.timeout = timeout
        self.allow_private = database.settings.hooks_allow_private
        # One transport per address: connections go to the IP address checked for that
        # name, so one pool for all would hand a connection (and its TLS session) made
        # for one name to another name on the same address.
        self._transports: dict[
            tuple[str, str, int], tuple[DeliveryTransport, asyncio.Semaphore]
        ] = {}
        # A connect within the attempt's time; reading and writing are bounded by the
        # attempt's own timer (see _send), so the transport sets none of its own.
        self._timeouts = {"connect": timeout, "read": None, "write": None, "pool": None}
        self._tls: ssl.SSLContext | None = None
        self._closing: set[asyncio.Future[None]] = set()
        self._routes: dict[str, tuple[float, Route]] = {}

    async def aclose(self) -> None:
        transports, self._transports = self._transports, {}
        for transport, _ in transports.values():
            await transport.aclose()

    def _transport(self, target: addresses.Target) -> tuple[DeliveryTransport, asyncio.Semaphore]:
        """The HTTP transport of the target's address, and the semaphore that keeps its
        requests to PER_ADDRESS at once."""
        # Imported with the first delivery: a process that never delivers does without.
        import httpx

        from .transport import DeliveryTransport

        key = (target.scheme, target.host, target.port)
        entry = self._transports.pop(key, None)
        if entry is None:
            if self._tls is None:
                # Made once, when there is a first delivery: it costs a tenth of a second.
                self._tls = httpx.create_ssl_context()
            entry = (DeliveryTransport(self._tls, keep=PER_ADDRESS), asyncio.Semaphore(PER_ADDRESS))
            if len(self._transports) >= TRANSPORTS:
                oldest = next(iter(self._transports))
                closing = asyncio.ensure_future(self._transports.pop(oldest)[0].aclose())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        self._transports[key] = entry  # the most recently used last
        return entry

    async def attempt(self, delivery: Delivery, places: Places, lease_end: float) -> Outcome:
        """One attempt. Waiting for a free connection to the address counts in its time;
        waiting for a place does not (NoPlace once the lease could no longer cover it)."""
        import httpx

        started = time.monotonic()
        outcome = Outcome(utcnow())
        try:
            await self._send(delivery, outcome, places, lease_end)
        except NoPlace:
            raise
        except TimeoutError:
            if outcome.waiting == "connection":
                outcome.error = (
                    f"no free connection to the address within {self.timeout:g} seconds "
                    f"(at most {PER_ADDRESS} at once)"
                )
            else:
                outcome.error = f"no answer within {self.timeout:g} seconds"
        except addresses.AddressRefused as refused:
            outcome.error = f"address refused: {refused}"
        except SecretUnreadable as unreadable:
            outcome.error = str(unreadable)
        except httpx.TimeoutException:
            outcome.error = f"no answer within {self.timeout:g} seconds"
        except httpx.ConnectError as error:
            outcome.error = f"could not connect: {error or 'connection refused'}"
        except httpx.HTTPError as error:
            outcome.error = f"{type(error).__name__}: {error or 'the connection failed'}"
        except Exception as error:
            log.exception("hook delivery %d failed unexpectedly", delivery.iddelivery)
            outcome.error = f"{type(error).__name__}: {error}"
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        if outcome.error is not None:
            outcome.error = outcome.error[:500]
        return outcome

    def _known_route(self, address: str) -> Route | None:
        """The address's route checked less than RESOLVED_SECONDS ago, if there is one."""
        known = self._routes.get(address)
        if known is not None and time.monotonic() - known[0] < RESOLVED_SECONDS:
            return known[1]
        return None

    async def _route(self, address: str) -> Route:
        """The address checked (see addresses.check), reused for RESOLVED_SECONDS: the
        connection always goes to an IP address that was checked."""
        now = time.monotonic()
        route = Route.to(address, await addresses.check(address, self.allow_private))
        if len(self._routes) >= TRANSPORTS:
            self._routes.clear()
        self._routes[address] = (now, route)
        return route

    async def _send(
        self, delivery: Delivery, outcome: Outcome, places: Places, lease_end: float
    ) -> None:
        """The POST, its answer's status line within the attempt's time (TimeoutError
        otherwise). A place is taken only once the address has a free connection, so a
        delivery waiting for a busy address holds none. The status decides the outcome; the
        body is read for the log only until the time is up, so a receiver that answers and
        then drips its body is recorded by its status, never as both answered and not."""
        import httpx

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout

        route = self._known_route(delivery.address)
        if route is None:
            async with asyncio.timeout_at(deadline):
                route = await self._route(delivery.address)
        target = route.target
        secret = (
            box_for(self.database).open(delivery.secret) if delivery.secret is not None else None
        )
        body = delivery.body()
        headers = signing.headers(secret, webhook_id(delivery.iddelivery), int(time.time()), body)
        headers["Host"] = route.host
        extensions: dict[str, object] = {"timeout": self._timeouts}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        # The transport itself, not a client around it: a client's work (redirects, cookies,
        # authentication, default headers) is all unwanted here, and cost 0.2 ms a delivery.
        request = httpx.Request(
            "POST", route.url, content=body, headers=headers, extensions=extensions
        )
        transport, free = self._transport(target)
        excerpt = bytearray()
        if free.locked():
            async with asyncio.timeout_at(deadline):
                outcome.waiting = "connection"
                await free.acquire()
        else:
            await free.acquire()  # at once: no timer to set and cancel
        response: httpx.Response | None = None
        try:
            # The rest of the lease must cover the attempt's whole time once a place is free.
            async with places.take(delivery.account_id, lease_end - self.timeout - 1):
                outcome.waiting = None
                deadline = max(deadline, loop.time() + self.timeout)
                try:
                    async with asyncio.timeout_at(deadline):
                        response = await transport.handle_async_request(request)
                        outcome.status = response.status_code
                        # The answer is its status; the excerpt is what came of its body.
                        with contextlib.suppress(httpx.HTTPError):
                            await _excerpt(response, excerpt)
                except TimeoutError:
                    if response is None:
                        raise
                    # Answered in time, then the body stopped: what came of it is the excerpt.
                finally:
                    if response is not None:
                        await response.aclose()
        finally:
            free.release()
        assert response is not None
        if excerpt:
            outcome.response = bytes(excerpt[:RESPONSE_EXCERPT]).decode("utf-8", "replace")
        if 300 <= response.status_code < 400:
            outcome.error = f"answered {response.status_code}: redirects are not followed"
        elif not outcome.succeeded:
            outcome.error = f"answered {response.status_code} {response.reason_phrase}".strip()


async def _excerpt(response: httpx.Response, excerpt: bytearray) -> None:
    """Add the start of the answer's body to `excerpt`, however long the whole: never read
    further."""
    async for chunk in response.aiter_bytes():
        excerpt += chunk
        if len(excerpt) >= RESPONSE_EXCERPT:
            break
