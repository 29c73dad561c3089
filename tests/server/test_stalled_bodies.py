"""Bodies that stop arriving, against a real server over raw sockets: each is answered 408
in its own format once FULFILMENT_BODY_TIMEOUT_SECONDS pass, and no more than
FULFILMENT_MAX_PENDING_BODIES may be arriving at once, at most
FULFILMENT_MAX_PENDING_BODIES_PER_ADDRESS of them from one address while they are slow or
the room is full. Every wait is bounded."""

from __future__ import annotations

import base64
import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fulfilment.edge import sender
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


def connect(server: Server, source: str = "127.0.0.1") -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection(
        (host, int(port)), timeout=TIMEOUT * 5, source_address=(source, 0)
    )


def answer_of(sock: socket.socket) -> bytes:
    """Everything until the server closes, within the socket's timeout (a test fails when
    the server holds the connection instead)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def answered_first(socks: list[socket.socket], count: int) -> list[socket.socket]:
    """The first `count` of `socks` that the server answers (or closes)."""
    answered: list[socket.socket] = []
    while len(answered) < count:
        readable, _, _ = select.select([s for s in socks if s not in answered], [], [], 10)
        assert readable, "no answer within 10 seconds"
        answered.extend(readable)
    return answered


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
    # The room of three, and the reserve beyond it for addresses under their share (one).
    stalled = [connect(server) for _ in range(4)]
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


def test_one_address_holds_only_its_share_of_the_room(tmp_path: Path) -> None:
    env = {
        "FULFILMENT_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "FULFILMENT_RATE_LIMIT": "off",
        "FULFILMENT_BODY_TIMEOUT_SECONDS": "5",
        "FULFILMENT_MAX_PENDING_BODIES": "8",
        "FULFILMENT_MAX_PENDING_BODIES_PER_ADDRESS": "2",
    }
    key = new_account(env)
    body = b'{"name": "Whole"}'
    # Loopback is a whole network: the trickler and the others connect from addresses of
    # their own.
    trickler, other = "127.0.0.2", "127.0.0.3"
    with running_server(env) as server:
        stalled = [connect(server, trickler) for _ in range(6)]
        try:
            for sock in stalled:
                sock.sendall(api_post(key, 1000) + b"{")
            # Two are waited for; the trickler's others are refused at once.
            first = answered_first(stalled, 4)
            refused = [answer_of(sock) for sock in first]
            held = [sock for sock in stalled if sock not in first]
            with connect(server, other) as sock:
                sock.sendall(api_post(key, len(body)) + body)
                created = answer_of(sock)
            form = b"username=someone&password=wrong"
            with connect(server, other) as sock:
                closing = portal_post(len(form)).replace(
                    b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"
                )
                sock.sendall(closing + form)
                login = answer_of(sock)
            # A whole body takes no share: the trickler's is served too.
            with connect(server, trickler) as sock:
                sock.sendall(api_post(key, len(body)) + body)
                trickler_whole = answer_of(sock)
            waited = [answer_of(sock) for sock in held]
        finally:
            for sock in stalled:
                sock.close()
        # Its bodies timed out: the trickler's share is free again.
        with connect(server, trickler) as sock:
            sock.sendall(api_post(key, len(body)) + body)
            trickler_later = answer_of(sock)

    for answer in refused:
        assert answer.startswith(b"HTTP/1.1 503 "), answer[:200]
        assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {
            "error": True,
            "error_code": 104,
            "error_message": "Too many requests from your address are sending their bodies "
            "right now; try again once they are in.",
        }
    assert created.startswith(b"HTTP/1.1 200 "), created[:300]
    assert trickler_whole.startswith(b"HTTP/1.1 200 "), trickler_whole[:300]
    # Read and answered: without the login page's token, a form that has expired.
    assert login.startswith(b"HTTP/1.1 400 "), login[:300]
    assert b"The form has expired." in login
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in waited)
    assert trickler_later.startswith(b"HTTP/1.1 200 "), trickler_later[:300]


def test_a_full_room_keeps_a_reserve_for_addresses_under_their_share(tmp_path: Path) -> None:
    env = {
        "FULFILMENT_DATABASE_URL": f"sqlite:///{tmp_path / 'reserve.sqlite3'}",
        "FULFILMENT_RATE_LIMIT": "off",
        # Long enough that nothing held times out while the room fills.
        "FULFILMENT_BODY_TIMEOUT_SECONDS": "60",
        "FULFILMENT_MAX_PENDING_BODIES": "8",
        "FULFILMENT_MAX_PENDING_BODIES_PER_ADDRESS": "2",
    }
    key = new_account(env)
    body = b'{"name": "Whole"}'
    holder, other = "127.0.0.2", "127.0.0.3"
    with running_server(env) as server:
        # Headers only, not one byte of the bodies: none is slow, each takes a place once
        # the service reads it. Probes stay open too, so the room fills whatever the pace.
        held = [connect(server, holder) for _ in range(8)]
        try:
            for sock in held:
                sock.sendall(api_post(key, len(body)))
            refused = b""
            deadline = time.monotonic() + 60
            while not refused:
                assert time.monotonic() < deadline, "the holder was never refused"
                probe = connect(server, holder)
                held.append(probe)
                probe.sendall(api_post(key, len(body)))
                if select.select([probe], [], [], 2)[0]:
                    refused = answer_of(probe)
            with connect(server, other) as sock:
                sock.sendall(api_post(key, len(body)) + body)
                created = answer_of(sock)
        finally:
            for sock in held:
                sock.close()

    assert refused.startswith(b"HTTP/1.1 503 "), refused[:200]
    assert b"from your address" in refused
    assert created.startswith(b"HTTP/1.1 200 "), created[:300]


@pytest.mark.parametrize(
    ("client", "counted_as"),
    [
        ("192.0.2.7", "192.0.2.7"),
        # An IPv4 client of a dual-stack socket is that IPv4 address, not all of them.
        ("::ffff:192.0.2.7", "192.0.2.7"),
        # One IPv6 host usually has a whole /64 to pick addresses from.
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ],
)
def test_bodies_count_against_the_address_or_its_ipv6_network(client: str, counted_as: str) -> None:
    assert sender({"type": "http", "client": (client, 40000)}) == counted_as
