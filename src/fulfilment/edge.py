"""Where a request enters the service, before routing: which proxy is believed about the
scheme and the client, HSTS over HTTPS, and the limits on a request's headers and on
bodies that stop arriving, in all and per client address."""

from __future__ import annotations

import asyncio
import ipaddress
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import HEADERS_TOO_LARGE, BodyTimeout, ServiceUnavailable, error_body
from .settings import Settings, proxy_networks
from .wire import JSON_TYPE

# Far below what the server itself refuses (about 400 KB, or more than 100 header fields,
# answered 431 with an empty body), so that a client hears why in the wire format.
MAX_HEADER_BYTES = 64 * 1024
# The whole body must arrive within this many times the wait allowed between its parts:
# a client trickling a byte now and then is not waited for either.
WHOLE_BODY_FACTOR = 6
HSTS = (b"strict-transport-security", b"max-age=31536000")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class TrustedProxies:
    """The proxies named in FULFILMENT_FORWARDED_ALLOW_IPS, and what their headers mean."""

    def __init__(self, setting: str | None) -> None:
        self.anyone, self.networks = proxy_networks(setting)

    def __bool__(self) -> bool:
        return self.anyone or bool(self.networks)

    def trusts(self, host: str) -> bool:
        if self.anyone:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def apply(self, scope: Scope) -> None:
        """Take the scheme and the client's address from a trusted proxy's headers."""
        client = scope.get("client")
        if not client or not self.trusts(client[0]):
            return
        proto: str | None = None
        hops: list[str] = []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-proto" and proto is None:
                proto = value.decode("latin-1").strip().lower()
            elif name == b"x-forwarded-for":
                hops.extend(hop.strip() for hop in value.decode("latin-1").split(","))
        if proto in {"http", "https"}:
            scope["scheme"] = proto
        # The client is the nearest hop that is not a trusted proxy; anything that is not an
        # address (a forged or garbled header) ends the walk.
        for hop in reversed(hops):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break
            scope["client"] = (hop, 0)
            if not self.trusts(hop):
                break


class _TimedBody:
    """`receive` for one request, refusing to wait for a body that stops arriving. A body
    counts as arriving from the first time the service asks for it until it is whole: a
    request still waiting for the database before it reads its body holds no place.

    Its sender (see `sender`) may hold only a share of the room in two ways: a body that
    is not whole once its first part is in (its declared length is not reached, or there
    is more of a body of no declared length) is slow, and a sender with its share of slow
    bodies is refused more; and once the worker's room is full, only a sender holding less
    than its share may start a body, in a reserve beyond it. A client that sends many
    whole bodies at once is never refused for its address."""

    def __init__(self, edge: Edge, receive: Receive, sender: str, length: int | None) -> None:
        self.edge = edge
        self._receive = receive
        self.sender = sender
        # What is left of the body its Content-Length declared; None when it declared none.
        self.missing = length
        self.deadline = 0.0
        self.counted = False
        self.slow = False
        self.complete = False
        self.timed_out = False

    def done(self) -> None:
        if self.counted:
            self.counted = False
            self.edge.pending_bodies -= 1
            _take(self.edge.pending_by_sender, self.sender)
        if self.slow:
            self.slow = False
            _take(self.edge.slow_by_sender, self.sender)

    async def receive(self) -> Message:
        if self.complete:
            # The body is in: what comes next is a disconnect, waited for as long as needed.
            return await self._receive()
        if self.timed_out:
            raise self._timeout()
        if not self.counted:
            edge = self.edge
            from_sender = edge.pending_by_sender.get(self.sender, 0)
            if edge.pending_bodies >= edge.max_pending_bodies:
                if from_sender >= edge.max_pending_bodies_per_sender:
                    return await _no_room_for_sender()
                if edge.pending_bodies >= edge.max_pending_bodies + edge.reserve:
                    return await _no_room()
            self.edge.pending_bodies += 1
            self.edge.pending_by_sender[self.sender] = from_sender + 1
            self.counted = True
            self.deadline = time.monotonic() + self.edge.whole_body_seconds
        wait = min(self.edge.gap_seconds, self.deadline - time.monotonic())
        message: Message | None = None
        try:
            async with asyncio.timeout(wait):
                message = await self._receive()
        except TimeoutError:
            message = None
        if message is None:
            self.timed_out = True
            self.done()
            raise self._timeout()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.complete = True
            self.done()
            return message
        if self.missing is not None:
            self.missing -= len(message.get("body", b""))
        if not self.slow and (self.missing is None or self.missing > 0):
            slow = self.edge.slow_by_sender.get(self.sender, 0)
            if slow >= self.edge.max_pending_bodies_per_sender:
                self.done()
                return await _no_room_for_sender()
            self.edge.slow_by_sender[self.sender] = slow + 1
            self.slow = True
        return message

    def _timeout(self) -> BodyTimeout:
        if time.monotonic() >= self.deadline:
            return BodyTimeout(
                f"The request body did not arrive whole within "
                f"{self.edge.whole_body_seconds:g} seconds."
            )
        return BodyTimeout(
            f"The request body stopped arriving: no part of it came for "
            f"{self.edge.gap_seconds:g} seconds."
        )


def _take(counts: dict[str, int], sender: str) -> None:
    left = counts[sender] - 1
    if left:
        counts[sender] = left
    else:
        del counts[sender]


async def _no_room() -> Message:
    raise ServiceUnavailable(
        "Too many requests are sending their bodies right now; try again shortly."
    )


async def _no_room_for_sender() -> Message:
    raise ServiceUnavailable(
        "Too many requests from your address are sending their bodies right now; "
        "try again once they are in."
    )


def sender(scope: Scope) -> str:
    """Whom a body counts against: the client's address, or for IPv6 its /64 network (a
    single host usually has all of one)."""
    client = scope.get("client")
    if not client:
        return ""
    host: str = client[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # an IPv4 client of a dual-stack socket
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return host


def _with_hsts(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), HSTS]
        await send(message)

    return sending


async def _headers_too_large(send: Send) -> None:
    body = error_body(
        HEADERS_TOO_LARGE, f"The request's headers add up to more than {MAX_HEADER_BYTES} bytes."
    )
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [
                (b"content-type", JSON_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Edge:
    """ASGI layer just inside the request context, so that what it refuses is counted."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.proxies = TrustedProxies(settings.forwarded_allow_ips)
        self.gap_seconds = float(settings.body_timeout_seconds)
        self.whole_body_seconds = self.gap_seconds * WHOLE_BODY_FACTOR
        self.max_pending_bodies = settings.max_pending_bodies
        self.max_pending_bodies_per_sender = settings.max_pending_bodies_per_address
        self.pending_bodies = 0
        # Bodies arriving, by sender(): one client trickling many bodies fills its own
        # share, not everyone's room.
        self.pending_by_sender: dict[str, int] = {}
        # Of those, the ones not whole once their first part was in.
        self.slow_by_sender: dict[str, int] = {}
        # Room beyond max_pending_bodies for senders under their share, once it is full.
        self.reserve = max(1, self.max_pending_bodies // 4)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.proxies:
            self.proxies.apply(scope)
        size = 0
        declared: bool | None = None
        length: int | None = None
        for name, value in scope["headers"]:
            size += len(name) + len(value)
            if name == b"content-length":
                declared = bool(value.strip().lstrip(b"0"))
                length = int(value) if value.strip().isdigit() else None
            elif name == b"transfer-encoding":
                declared = True
        if size > MAX_HEADER_BYTES:
            await _headers_too_large(send)
            return
        if scope["scheme"] == "https":
            send = _with_hsts(send)
        if not (declared or (declared is None and scope["method"] in _BODY_METHODS)):
            await self.app(scope, receive, send)
            return
        # Past max_pending_bodies, answered by the route, in its own format, when it reads
        # the body (see _TimedBody).
        body = _TimedBody(self, receive, sender(scope), length)
        try:
            await self.app(scope, body.receive, send)
        finally:
            body.done()
