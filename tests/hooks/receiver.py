"""A real HTTP receiver of webhook deliveries, on a port of its own, that records what it
gets and fails or answers slowly on demand."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Receiver:
    """Answers `status` (200) after `delay` seconds (0); `up()` and `down()` start and
    stop listening on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 200
        self.delay = 0.0
        # Requests answered 2xx, and every request whatever it was answered.
        self.received: list[Received] = []
        self.requests: list[Received] = []
        self.failures = 0
        # When each request arrived, before any delay.
        self.arrivals: list[float] = []
        # Requests being answered now, and the most at once.
        self.concurrent = 0
        self.most_concurrent = 0
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.arrivals.append(time.monotonic())
                    receiver.concurrent += 1
                    receiver.most_concurrent = max(receiver.most_concurrent, receiver.concurrent)
                    receiver._lock.notify_all()
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.concurrent -= 1
                status = receiver.status
                received = Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.monotonic(),
                )
                receiver._record(received, 200 <= status < 300)
                answer = f"status {status}".encode()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        server.allow_reuse_address = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _record(self, received: Received, succeeded: bool) -> None:
        with self._lock:
            self.requests.append(received)
            if succeeded:
                self.received.append(received)
            else:
                self.failures += 1
            self._lock.notify_all()

    def wait_for(
        self, done: Callable[[list[Received]], bool], seconds: float = 10.0
    ) -> list[Received]:
        """The deliveries received once `done(received)` holds; AssertionError after
        `seconds`."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while not done(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"not received in {seconds} s; got {len(self.received)} deliveries"
                    )
                self._lock.wait(left)
            return list(self.received)

    def wait_count(self, count: int, seconds: float = 10.0) -> list[Received]:
        return self.wait_for(lambda got: len(got) >= count, seconds)


class DrippingReceiver:
    """Reads each request, sends its status line and headers at once, then the body a
    byte every `interval` seconds, until the client goes away: a receiver that has
    answered but never finishes."""

    def __init__(self, status: int, interval: float = 0.1) -> None:
        self.status = status
        self.interval = interval
        self.port = free_port()
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/drip"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                head += chunk
            self.requests += 1
            connection.sendall(
                f"HTTP/1.1 {self.status} Dripping\r\nContent-Length: 100000\r\n\r\n".encode()
            )
            try:
                while not self._closed.wait(self.interval):
                    connection.sendall(b"d")
            except OSError:
                return  # the client closed the connection

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
