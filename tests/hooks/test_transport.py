"""The deliveries' HTTP transport against real servers on this machine: connections kept
and replaced, answers read in part, TLS names checked, time limits, broken answers."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from fulfilment.hooks.transport import DeliveryTransport
from tests.servers import make_certificate

Handler = Callable[["Peer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Peer:
    """What a test server saw: connections, and each request's head and body."""

    connections: int = 0
    requests: list[tuple[bytes, bytes]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)

    async def read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        """The next request's head (its body is read and kept too), or None at the end."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        self.requests.append((head, body))
        return head


async def answer_each(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    while await peer.read_request(reader) is not None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()


async def serve(
    handler: Handler, tls: ssl.SSLContext | None = None
) -> tuple[asyncio.Server, Peer, int]:
    peer = Peer()
    if tls is not None:

        def note_name(_: ssl.SSLObject, name: str | None, __: ssl.SSLContext) -> None:
            peer.server_names.append(name)

        tls.sni_callback = note_name  # type: ignore[assignment]

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer.connections += 1
        try:
            await handler(peer, reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(connected, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    return server, peer, port


def client(
    tls: ssl.SSLContext | None = None, timeout: float = 5.0, keep_alive: float = 4.0
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=DeliveryTransport(
            tls or ssl.create_default_context(), keep=4, keep_alive=keep_alive
        ),
        timeout=timeout,
        trust_env=False,
    )


def test_a_connection_is_kept_and_used_for_the_next_requests() -> None:
    async def scenario() -> None:
        server, peer, port = await serve(answer_each)
        async with server, client() as http:
            for number in range(20):
                response = await http.post(
                    f"http://127.0.0.1:{port}/hook?n={number}",
                    content=b'{"n": %d}' % number,
                    headers={"Host": "hooks.example", "Content-Type": "application/json"},
                )
                assert (response.status_code, response.text) == (200, "ok")
                assert response.reason_phrase == "OK"
        assert peer.connections == 1
        assert len(peer.requests) == 20
        head, body = peer.requests[7]
        assert head.startswith(b"POST /hook?n=7 HTTP/1.1\r\n")
        assert b"\r\nhost: hooks.example\r\n" in head.lower()
        assert body == b'{"n": 7}'

    asyncio.run(scenario())


def test_a_connection_idle_past_its_time_is_not_used_again() -> None:
    async def scenario() -> None:
        server, peer, port = await serve(answer_each)
        async with server, client(keep_alive=0.2) as http:
            await http.post(f"http://127.0.0.1:{port}/")
            await http.post(f"http://127.0.0.1:{port}/")
            assert peer.connections == 1
            await asyncio.sleep(0.3)
            await http.post(f"http://127.0.0.1:{port}/")
        assert peer.connections == 2

    asyncio.run(scenario())


def test_a_kept_connection_closed_by_the_server_is_replaced_without_losing_the_request() -> None:
    async def one_answer_then_close(
        peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # Answers the first request, then drops the connection on the second without a
        # word: as a server does whose idle limit ran out just as the request arrived.
        await peer.read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")

    async def scenario() -> None:
        server, peer, port = await serve(one_answer_then_close)
        async with server, client() as http:
            statuses = [
                (await http.post(f"http://127.0.0.1:{port}/", content=b"x")).status_code
                for _ in range(3)
            ]
        assert statuses == [204, 204, 204]
        assert peer.connections == 3
        assert len(peer.requests) == 3

    asyncio.run(scenario())


def test_a_new_connection_closed_without_an_answer_is_an_error() -> None:
    async def close_at_once(
        peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await peer.read_request(reader)

    async def scenario() -> None:
        server, peer, port = await serve(close_at_once)
        async with server, client() as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post(f"http://127.0.0.1:{port}/", content=b"x")
        assert peer.connections == 1

    asyncio.run(scenario())


def test_an_answer_read_in_part_closes_its_connection_and_chunks_are_joined() -> None:
    big = b"x" * 1_000_000

    async def long_then_chunked(
        peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while await peer.read_request(reader) is not None:
            if len(peer.requests) == 1:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
            else:
                writer.write(
                    b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                )
            try:
                await writer.drain()
            except ConnectionError:
                return

    async def scenario() -> None:
        server, peer, port = await serve(long_then_chunked)
        async with server, client() as http:
            async with http.stream("POST", f"http://127.0.0.1:{port}/", content=b"x") as first:
                start = b""
                async for chunk in first.aiter_bytes():
                    start += chunk
                    if len(start) >= 1000:
                        break
            assert start[:1000] == big[:1000]
            second = await http.post(f"http://127.0.0.1:{port}/", content=b"x")
            assert (second.status_code, second.reason_phrase, second.text) == (
                500,
                "Oops",
                "hello world",
            )
        # The first connection was dropped, not read to its end and used again.
        assert peer.connections == 2

    asyncio.run(scenario())


def test_an_answer_saying_close_is_not_kept() -> None:
    async def close_after(
        peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await peer.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async def scenario() -> None:
        server, peer, port = await serve(close_after)
        async with server, client() as http:
            for _ in range(3):
                assert (await http.post(f"http://127.0.0.1:{port}/")).status_code == 200
        assert peer.connections == 3

    asyncio.run(scenario())


def test_https_checks_the_certificate_against_the_name_given(tmp_path: Path) -> None:
    certificate = make_certificate(tmp_path, "hooks.example")
    trusting = ssl.create_default_context(cafile=str(certificate.cert))

    async def scenario() -> None:
        server, peer, port = await serve(answer_each, tls=certificate.server_context())
        url = f"https://127.0.0.1:{port}/hook"
        async with server, client(trusting) as http, client() as untrusting:
            right = await http.post(url, extensions={"sni_hostname": "hooks.example"})
            assert (right.status_code, right.text) == (200, "ok")
            with pytest.raises(httpx.ConnectError, match="certificate"):
                await http.post(url, extensions={"sni_hostname": "other.example"})
            with pytest.raises(httpx.ConnectError, match="certificate"):
                await http.post(url)  # the certificate does not name 127.0.0.1
            with pytest.raises(httpx.ConnectError, match="certificate"):
                await untrusting.post(url, extensions={"sni_hostname": "hooks.example"})
        assert peer.server_names[0] == "hooks.example"
        assert len(peer.requests) == 1

    asyncio.run(scenario())


def test_time_limits_and_refused_connections() -> None:
    async def never_answer(
        peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await peer.read_request(reader)
        await asyncio.sleep(5)

    async def scenario() -> None:
        server, _, port = await serve(never_answer)
        async with server, client(timeout=0.2) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.post(f"http://127.0.0.1:{port}/")
        server.close()
        async with client() as http:
            with pytest.raises(httpx.ConnectError):
                await http.post(f"http://127.0.0.1:{port}/")

    asyncio.run(scenario())


def test_an_answer_that_is_not_http_is_a_protocol_error() -> None:
    async def garbage(
        peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await peer.read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async def scenario() -> None:
        server, _, port = await serve(garbage)
        async with server, client() as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post(f"http://127.0.0.1:{port}/")

    asyncio.run(scenario())
