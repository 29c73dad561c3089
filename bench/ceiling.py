"""The physical ceiling for GET one on SQLite: a raw ASGI app that answers the service's
bytes for one customer straight from sqlite3. SQLite writes the JSON itself: no framework,
no auth, no parsing or encoding in Python; served by the same server with the same options
as `fulfilment serve`. The harness checks that its bytes are the service's."""

from __future__ import annotations

import http.client
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import processes
from .baseline import CONTENT_TYPE, Asgi, serve

if TYPE_CHECKING:
    from .__main__ import Bench, Report, Row
    from .fill import Filled
    from .processes import Server

# The harness's row: GET one against this app (SQLite).
CASE = "GET one vs ceiling"

# The customer object in the service's key order; the last login in the account's zone, at
# its offset of today.
GET_ONE = (
    "SELECT json_object('idfulfilment_customer', idfulfilment_customer, 'name', name, "
    "'can_login', json(CASE WHEN can_login THEN 'true' ELSE 'false' END), "
    "'username', username, 'emailaddress', emailaddress, 'language', language, "
    "'idtemplate', idtemplate, "
    "'last_login_at', strftime('%Y-%m-%d %H:%M:%S', last_login_at, ?), "
    "'allowed_shipping_profiles', json(allowed_shipping_profiles), "
    "'preferred_idwarehouse', preferred_idwarehouse) "
    "FROM fulfilment_customers WHERE account_id = ? AND idfulfilment_customer = ?"
)


def create_app(path: str, account_id: int, timezone: str = "Europe/Amsterdam") -> Asgi:
    offset = datetime.now(UTC).astimezone(ZoneInfo(timezone)).utcoffset()
    assert offset is not None
    shift = f"{offset.total_seconds():+.0f} seconds"
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            db.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        customer_id = int(scope["path"].rsplit("/", 1)[1])
        content = db.execute(GET_ONE, (shift, account_id, customer_id)).fetchone()[0].encode()
        headers = [CONTENT_TYPE, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return app


def app_from_env() -> Asgi:
    url = os.environ["FULFILMENT_DATABASE_URL"]
    return create_app(url.split(":///", 1)[1], int(os.environ["BENCH_ACCOUNT_ID"]))


@contextmanager
def server(bench: Bench, filled: Filled) -> Iterator[Server]:
    env = {"FULFILMENT_DATABASE_URL": filled.url, "BENCH_ACCOUNT_ID": str(filled.account_id)}
    command = processes.python_command("-m", "bench.ceiling", "127.0.0.1", "{port}")
    started = processes.start_server("ceiling", command, env, bench.logs)
    try:
        yield started
    finally:
        started.stop()


def run(bench: Bench, filled: Filled, report: Report) -> Row:
    """GET one against the ceiling, once both are seen to answer the same bytes."""
    from .__main__ import CASES, Row, authorization

    row = Row(CASE)
    request = bench.request(filled, CASES[0])
    with bench.service(filled) as service, server(bench, filled) as ceiling:
        path = CASES[0].path.replace("{id}", str(filled.first_id))
        header = authorization(filled.api_key)
        ours, theirs = (get_bytes(s, path, header) for s in (service, ceiling))
        bench.compare(row, service, ceiling, request, bench.options.connections)
    same = ours == theirs and ours[0] == 200
    row.note = "same bytes" if same else "DIFFERENT BYTES"
    if row.ratio is not None and row.cpu_ratio is not None:
        assert row.service is not None
        assert row.baseline is not None
        report.lines.append(
            f"GET one: {row.ratio:.2f} of the framework-free ceiling's rate, "
            f"{row.service.cpu_us:,.0f} against {row.baseline.cpu_us:,.0f} CPU us per request "
            f"({row.cpu_ratio:.2f}); {row.note}"
        )
    return row


def get_bytes(server: Server, path: str, authorization: str) -> tuple[int, bytes]:
    """One plain request: its status and body as sent."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("GET", path, headers={"Authorization": authorization})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def main() -> None:
    serve("bench.ceiling:app_from_env")


if __name__ == "__main__":
    main()
