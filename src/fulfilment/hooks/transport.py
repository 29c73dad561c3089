"""The transport deliveries go through: httpx's client on asyncio's sockets and h11 (the
HTTP/1.1 state machine httpcore uses), with each address's connections kept alive.

httpx's default transport runs httpcore over anyio: per request, cancel scopes around
every read and write, a look at every pooled connection's socket, and lookups of the async
library. On the benchmark machine one POST to a local receiver cost 1.2 to 1.9 ms of CPU
through it, and 0.6 ms through this one, of which 0.24 ms is httpx's client itself. A
delivery worker spends most of its time there, beside the requests it shares a core with.

It does what a delivery needs and no more: HTTP/1.1, no proxies, a request body in
memory. Each attempt is bounded as a whole by its caller; connects and reads also honour
the client's timeouts."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx

# An idle connection is used again only this soon: many servers close theirs after 5
# seconds idle, and a request sent as they do would be lost with the connection.
KEEP_ALIVE_SECONDS = 4.0
# Stop reading from the socket once this much is waiting to be parsed.
READ_BUFFER = 256 * 1024

# Where a connection goes: scheme, host (an IP address when pinned), port, and the name
# TLS checks the certificate against.
Key = tuple[str, str, int, str | None]


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: h11's state, fed by asyncio's callbacks."""

    def __init__(self) -> None:
        self.h11 = h11.Connection(h11.CLIENT)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        # Bytes received since the last request was sent.
        self.received = 0
        self._waiter: asyncio.Future[None] | None = None
        self._buffered = 0
        self._reading_paused = False
        self._writing_paused = False
        self._drained: asyncio.Future[None] | None = None

    # -- asyncio's callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.h11.receive_data(data)
        self.received += len(data)
        self._buffered += len(data)
        if self._buffered > READ_BUFFER and self.transport is not None:
            self.transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.h11.receive_data(b"")
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- used by the transport -------------------------------------------------------------

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def send(self, data: bytes, timeout: float | None) -> None:
        if self.closed or self.transport is None or self.transport.is_closing():
            raise httpx.WriteError("the connection is closed")
        self.received = 0
        self.transport.write(data)
        if self._writing_paused:
            self._drained = asyncio.get_running_loop().create_future()
            try:
                late = httpx.WriteTimeout("the request could not be sent in time")
                await _within(self._drained, timeout, late)
            finally:
                self._drained = None
            if self.closed:
                raise httpx.WriteError("the connection closed while the request was sent")

    async def next_event(self, timeout: float | None) -> Any:
        """h11's next event, waiting for data as long as it needs some."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as error:
                raise httpx.RemoteProtocolError(str(error)) from None
            if event is not h11.NEED_DATA:
                return event
            self._buffered = 0
            if self._reading_paused and self.transport is not None:
                self._reading_paused = False
                self.transport.resume_reading()
            if self.closed:
                raise httpx.RemoteProtocolError("the server closed the connection")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await _within(self._waiter, timeout, httpx.ReadTimeout("no answer in time"))
            finally:
                self._waiter = None

    @property
    def reusable(self) -> bool:
        return (
            not self.closed and self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE
        )


async def _within(
    future: asyncio.Future[None], timeout: float | None, late: httpx.TimeoutException
) -> None:
    """Wait for `future`; `late` when `timeout` seconds pass first (None: as long as the
    caller allows, with no timer of its own)."""
    if timeout is None:
        await future
        return
    try:
        async with asyncio.timeout(timeout):
            await future
    except TimeoutError:
        raise late from None


class _Body(httpx.AsyncByteStream):
    """The answer's body, read as far as the caller reads it; the connection goes back to
    the transport when it was read to the end, and is closed otherwise."""

    def __init__(
        self,
        owner: DeliveryTransport,
        key: Key,
        connection: _Connection,
        read_timeout: float | None,
    ) -> None:
        self._owner, self._key, self._connection = owner, key, connection
        self._read_timeout = read_timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            event = await self._connection.next_event(self._read_timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return

    async def aclose(self) -> None:
        self._owner._release(self._key, self._connection)


def _timeouts(request: httpx.Request) -> tuple[float | None, float | None, float | None]:
    """(connect, read, write) of the client's timeout for this request."""
    timeout = request.extensions.get("timeout") or {}
    return timeout.get("connect"), timeout.get("read"), timeout.get("write")


class DeliveryTransport(httpx.AsyncBaseTransport):
    """Keeps up to `keep` idle connections per address, each for `keep_alive` seconds.
    `tls` verifies https addresses; the name checked, and sent in SNI, is the request's
    `sni_hostname` extension when the URL names an IP address that was resolved from it."""

    def __init__(
        self, tls: ssl.SSLContext, keep: int, keep_alive: float = KEEP_ALIVE_SECONDS
    ) -> None:
        self._tls = tls
        self._keep = keep
        self._keep_alive = keep_alive
        self._idle: dict[Key, deque[_Connection]] = {}
        self._open: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"{scheme or 'no'} scheme: only http and https")
        server_name = request.extensions.get("sni_hostname") if scheme == "https" else None
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, url.host, port, server_name)
        connect_timeout, read_timeout, write_timeout = _timeouts(request)
        body = await request.aread()
        outgoing = h11.Request(
            method=request.method, target=url.raw_path, headers=list(request.headers.raw)
        )
        while True:
            connection = self._idle_connection(key)
            reused = connection is not None
            if connection is None:
                connection = await self._connect(key, connect_timeout)
            try:
                try:
                    data = connection.h11.send(outgoing) or b""
                    if body:
                        data += connection.h11.send(h11.Data(data=body)) or b""
                    data += connection.h11.send(h11.EndOfMessage()) or b""
                except h11.LocalProtocolError as error:
                    raise httpx.LocalProtocolError(str(error)) from None
                await connection.send(data, write_timeout)
                event = await connection.next_event(read_timeout)
                while isinstance(event, h11.InformationalResponse):
                    event = await connection.next_event(read_timeout)
            except (httpx.RemoteProtocolError, httpx.WriteError):
                self._drop(connection)
                # A kept connection the server closed as it was used: once more, on a new
                # one. Nothing of an answer had arrived, so nothing was lost.
                if reused and not connection.received:
                    continue
                raise
            except BaseException:
                self._drop(connection)
                raise
            if not isinstance(event, h11.Response):
                self._drop(connection)
                raise httpx.RemoteProtocolError("the server closed the connection")
            return httpx.Response(
                event.status_code,
                headers=list(event.headers),
                stream=_Body(self, key, connection, read_timeout),
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": bytes(event.reason)},
            )

    def _idle_connection(self, key: Key) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to be closed
            if not connection.closed and now - connection.idle_since < self._keep_alive:
                return connection
            self._drop(connection)
        return None

    async def _connect(self, key: Key, timeout: float | None) -> _Connection:
        scheme, host, port, server_name = key
        loop = asyncio.get_running_loop()
        tls = self._tls if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    _Connection,
                    host,
                    port,
                    ssl=tls,
                    server_hostname=(server_name or host) if tls is not None else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout("no connection in time") from None
        except (OSError, ssl.SSLError) as error:
            raise httpx.ConnectError(str(error) or type(error).__name__) from None
        self._open.add(connection)
        return connection

    def _release(self, key: Key, connection: _Connection) -> None:
        if connection.closed:
            self._open.discard(connection)
            return
        if not connection.reusable:
            self._drop(connection)
            return
        connection.h11.start_next_cycle()
        connection.idle_since = time.monotonic()
        idle = self._idle.setdefault(key, deque())
        idle.append(connection)
        while len(idle) > self._keep:
            oldest = idle.popleft()
            self._drop(oldest)

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)

    async def aclose(self) -> None:
        for connection in self._open:
            connection.close()
        self._open.clear()
        self._idle.clear()
