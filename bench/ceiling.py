"""The physical ceiling for GET one on SQLite: a raw ASGI app that answers the service's
bytes for one customer straight from sqlite3. SQLite writes the JSON itself: no framework,
no auth, no parsing or encoding in Python; served by the same server with the same options
as `fulfilment serve`. The harness checks that its bytes are the service's."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .baseline import CONTENT_TYPE, Asgi, serve

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


def main() -> None:
    serve("bench.ceiling:app_from_env")


if __name__ == "__main__":
    main()
