"""Broken HTTP against a real server, over raw sockets where an HTTP client cannot express
it: cut-off and slow bodies, huge headers, broken framing. Each gets a clean 4xx (a wire
error body once the request reached the service) or a closed connection, nothing is
stored, and the server logs no traceback and keeps serving."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import Server, new_account, running_server

CUSTOMERS = "/api/v1/fulfilment/customers"


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, str, Path]]:
    env = {"FULFILMENT_DATABASE_URL": database_url, "FULFILMENT_RATE_LIMIT": "1000000/minute"}
    key = new_account(env)
    log = tmp_path / "server.log"
    with running_server(env, log=log) as server:
        yield server, key, log


def exchange(
    server: Server, parts: list[bytes], pause: float = 0.0, half_close: bool = False
) -> bytes:
    """Send `parts` (with `pause` seconds between them) and read until the server closes."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for part in parts:
            sock.sendall(part)
            time.sleep(pause)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def wire_error(answer: bytes) -> dict[str, object]:
    body: dict[str, object] = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert set(body) == {"error", "error_code", "error_message"}
    return body


def head(method: str, key: str, *extra: str, authorization: bytes | None = None) -> bytes:
    if authorization is None:
        authorization = b"Basic " + base64.b64encode(f"{key}:X".encode())
    lines = [f"{method} {CUSTOMERS} HTTP/1.1", "Host: localhost", "Connection: close", *extra]
    return "\r\n".join(lines).encode() + b"\r\nAuthorization: " + authorization + b"\r\n\r\n"


def test_broken_http_gets_clean_answers_and_changes_nothing(
    live: tuple[Server, str, Path],
) -> None:
    server, key, log = live
    body = b'{"name": "Never stored"}'

    # A body cut off by a client that then closes its side: a wire error, nothing stored.
    cut = exchange(server, [head("POST", key, "Content-Length: 100") + body], half_close=True)
    assert status_of(cut) == 400
    assert wire_error(cut)["error_code"] == 22

    # A client that vanishes mid-body, without waiting for an answer.
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head("POST", key, "Content-Length: 1000") + body[:10])
        time.sleep(0.2)

    # A client without a key whose body stalls still gets its 401 soon (the service reads
    # an unneeded body only briefly), and the connection is not held.
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        request = head("POST", key, "Content-Length: 1000", authorization=b"Basic !!")
        sock.sendall(request + body[:10])
        stalled = b""
        # Until the body's end: a server that closes first must not make this spin.
        while not stalled.endswith(b"}") and (chunk := sock.recv(65536)):
            stalled += chunk
    assert status_of(stalled) == 401
    assert wire_error(stalled)["error_code"] == 101

    # Broken chunked framing: the body never completes.
    chunked = head("POST", key, "Transfer-Encoding: chunked") + b"zz\r\nnot hex\r\n0\r\n\r\n"
    assert 400 <= status_of(exchange(server, [chunked])) < 500

    # Framing HTTP itself refuses: granian answers before the service sees anything.
    for broken in (
        head("POST", key, "Content-Length: abc") + body,
        head("POST", key, "Content-Length: -5") + body,
        b"\x00\x01\x02 garbage\r\n\r\n",
        head("POST", key, "Content-Length: 2", authorization=b"Basic \x01\x02") + b"{}",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % n for n in range(500)) + b"\r\n",
    ):
        answer = exchange(server, [broken])
        assert answer == b"" or 400 <= status_of(answer) < 500, answer[:200]

    # Authorization headers no Basic decoder can read: a 401 wire error, not a fault.
    for value in (b"Basic \xff\xfe\xc3\xa9", b"Basic " + b"A" * 60_000, b"Basic \xe9t\xe9"):
        request = head("POST", key, "Content-Length: 2", authorization=value) + b"{}"
        answer = exchange(server, [request])
        assert status_of(answer) == 401, answer[:200]
        assert wire_error(answer)["error_code"] == 101

    # A body that arrives slowly, in pieces, is read whole and served.
    slow_body = b'{"name": "Slow but sure"}'
    slow = exchange(
        server,
        [
            head("POST", key, f"Content-Length: {len(slow_body)}"),
            *(slow_body[i : i + 5] for i in range(0, len(slow_body), 5)),
        ],
        pause=0.1,
    )
    assert status_of(slow) == 200, slow

    listed = httpx.get(f"{server.url}{CUSTOMERS}", auth=(key, "X"))
    assert listed.status_code == 200
    assert [customer["name"] for customer in listed.json()] == ["Slow but sure"]
    server.stop()
    text = log.read_text()
    assert "Traceback" not in text
    assert '"level":"ERROR"' not in text
