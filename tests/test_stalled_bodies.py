"""Bodies that stop arriving, against a real server over raw sockets: each is answered 408
in its own format once FULFILMENT_BODY_TIMEOUT_SECONDS pass, and no more than
FULFILMENT_MAX_PENDING_BODIES may be arriving at once. Every wait is bounded."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import Server, new_account, running_server

CUSTOMERS = "/api/v1/fulfilment/customers"
TIMEOUT = 2


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    directory = tmp_path_factory.mktemp("stalled")
    env = {
        "FULFILMENT_DATABASE_URL": f"sqlite:///{directory / 'stalled.sqlite3'}",
        "FULFILMENT_RATE_LIMIT": "off",
        "FULFILMENT_BODY_TIMEOUT_SECONDS": str(TIMEOUT),
        "FULFILMENT_MAX_PENDING_BODIES": "3",
    }
    key = new_account(env)
    with running_server(env, log=directory / "server.log") as server:
        yield server, key


def connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=TIMEOUT * 5)


def answer_of(sock: socket.socket) -> bytes:
    """Everything until the server closes, within the socket's timeout (a test fails when
    the server holds the connection instead)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def api_post(key: str, length: int) -> bytes:
    authorization = base64.b64encode(f"{key}:X".encode()).decode()
    return (
        f"POST {CUSTOMERS} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        f"Authorization: Basic {authorization}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def portal_post(length: int) -> bytes:
    return (
        "POST /portal/acme/login HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nAccept-Language: en\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def test_a_stalled_api_body_gets_408_in_the_wire_format(live: tuple[Server, str]) -> None:
    server, key = live
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(api_post(key, 1000) + b'{"name": "Stalled')
        answer = answer_of(sock)
        waited = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {
        "error": True,
        "error_code": 105,
        "error_message": f"The request body stopped arriving: no part of it came for "
        f"{TIMEOUT} seconds.",
    }
    assert TIMEOUT - 0.5 < waited < TIMEOUT + 3


def test_a_stalled_portal_form_gets_a_page(live: tuple[Server, str]) -> None:
    server, _ = live
    with connect(server) as sock:
        sock.sendall(portal_post(500) + b"username=someone&pass")
        answer = answer_of(sock)

    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    head, _, page = answer.partition(b"\r\n\r\n")
    assert b"text/html" in head
    assert b"The form took too long to arrive." in page


def test_a_trickled_body_is_not_waited_for_without_end(live: tuple[Server, str]) -> None:
    server, key = live
    with connect(server) as sock:
        sock.sendall(api_post(key, 1000) + b"{")
        started = time.monotonic()
        answer = b""
        # A byte a second: never a pause of TIMEOUT, but the whole body is not in after
        # six times TIMEOUT.
        while time.monotonic() - started < TIMEOUT * 6 + 3:
            try:
                sock.sendall(b" ")
            except OSError:
                break
            time.sleep(1)
            sock.setblocking(False)
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if answer:
                break

    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"did not arrive whole within" in answer


def test_bodies_arriving_at_once_are_bounded(live: tuple[Server, str]) -> None:
    server, key = live
    body = b'{"name": "Whole"}'
    stalled = [connect(server) for _ in range(3)]
    try:
        for sock in stalled:
            sock.sendall(api_post(key, 1000) + b"{")
        time.sleep(0.3)
        with connect(server) as sock:
            sock.sendall(api_post(key, len(body)) + body)
            refused = answer_of(sock)
        # Requests without a body are served as ever.
        listed = httpx.get(f"{server.url}{CUSTOMERS}", auth=(key, "X"), timeout=5)
        answers = [answer_of(sock) for sock in stalled]
    finally:
        for sock in stalled:
            sock.close()

    assert refused.startswith(b"HTTP/1.1 503 "), refused[:200]
    assert json.loads(refused.partition(b"\r\n\r\n")[2])["error_code"] == 104
    assert listed.status_code == 200
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)
    # Their time is up: there is room again.
    created = httpx.post(f"{server.url}{CUSTOMERS}", content=body, auth=(key, "X"), timeout=5)
    assert created.status_code == 200, created.text
