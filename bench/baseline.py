"""The ceiling the service is measured against: the least code that answers the benchmark's
requests with the service's bytes from the same database, doing the same database work (a
write reads what it changes and leaves an audit event). No framework, no auth, no
validation; one driver connection used on the event loop; served by the same server with
the same options as `fulfilment serve`."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import psycopg

CONTENT_TYPE = (b"content-type", b"application/json; charset=utf-8")
PREFIX = "/api/v1/fulfilment/customers"
COLUMNS = (
    "idfulfilment_customer, name, can_login, username, emailaddress, language, idtemplate, "
    "last_login_at, allowed_shipping_profiles, preferred_idwarehouse"
)
LIST_COLUMNS = COLUMNS.replace("allowed_shipping_profiles, ", "")
OBJECT_KEYS, LIST_KEYS = tuple(COLUMNS.split(", ")), tuple(LIST_COLUMNS.split(", "))
GET_ONE = (
    f"SELECT {COLUMNS} FROM fulfilment_customers WHERE account_id = ? AND idfulfilment_customer = ?"
)
PAGE = (
    f"SELECT {LIST_COLUMNS} FROM fulfilment_customers WHERE account_id = ? AND position > ? "
    "ORDER BY position LIMIT 100"
)
NEXT_POSITION = (
    "UPDATE accounts SET customer_count = customer_count + 1 WHERE id = ? RETURNING customer_count"
)
INSERT = (
    "INSERT INTO fulfilment_customers (account_id, position, name, can_login, emailaddress, "
    "language, allowed_shipping_profiles, search_name, search_username, search_email, "
    "credentials_version, created_at, updated_at) "
    "VALUES (?, ?, ?, false, ?, ?, '[]', ?, '', ?, 0, ?, ?) RETURNING idfulfilment_customer"
)
# The service reads the fields its rules need, locked, before it updates.
CURRENT = (
    "SELECT name, can_login, username, password_hash, emailaddress, language, idtemplate, "
    "allowed_shipping_profiles, preferred_idwarehouse, credentials_version "
    "FROM fulfilment_customers WHERE account_id = ? AND idfulfilment_customer = ?"
)
RENAME = (
    "UPDATE fulfilment_customers SET name = ?, search_name = ?, updated_at = ? "
    f"WHERE account_id = ? AND idfulfilment_customer = ? RETURNING {COLUMNS}"
)
# Every change leaves an audit event in the same transaction, as the service's do.
AUDIT = (
    "INSERT INTO audit_events (account_id, idfulfilment_customer, action, actor_type, "
    "actor_id, actor_name, changes, occurred_at) VALUES (?, ?, ?, 'api_key', 1, 'bench', ?, ?)"
)
STATEMENTS = (GET_ONE, PAGE, NEXT_POSITION, INSERT, CURRENT, RENAME, AUDIT)

Asgi = Callable[[dict[str, Any], Any, Any], Any]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def shape(row: Any, zone: ZoneInfo, keys: tuple[str, ...] = OBJECT_KEYS) -> dict[str, Any]:
    """A row as the service answers it: a customer object, or a list item."""

    def when(value: Any) -> str | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    answer = dict(zip(keys, row, strict=True))
    answer["can_login"] = bool(answer["can_login"])
    answer["last_login_at"] = when(answer["last_login_at"])
    if "allowed_shipping_profiles" in answer:
        answer["allowed_shipping_profiles"] = msgspec.Raw(
            answer["allowed_shipping_profiles"].encode()
        )
    return answer


def create_app(url: str, account_id: int, timezone: str = "Europe/Amsterdam") -> Asgi:
    """The baseline for the customers of `account_id` in the database at `url`."""
    zone = ZoneInfo(timezone)
    db: Any
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={os.environ.get('FULFILMENT_SQLITE_SYNCHRONOUS', 'FULL')}")
        begin, sql = "BEGIN IMMEDIATE", {s: s for s in STATEMENTS}
    else:
        db = psycopg.connect("postgresql://" + url.split("://", 1)[1], autocommit=True)
        begin, sql = "BEGIN", {s: s.replace("?", "%s") for s in STATEMENTS}
        sql[CURRENT] += " FOR UPDATE"

    def customer(row: Any, keys: tuple[str, ...] = OBJECT_KEYS) -> dict[str, Any]:
        return shape(row, zone, keys)

    def transaction(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        db.execute(begin)
        try:
            answer = work()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return answer

    def create(body: dict[str, Any]) -> dict[str, Any]:
        name, email, language = body["name"], body.get("emailaddress"), body.get("language", "nl")

        def insert() -> dict[str, Any]:
            position = db.execute(sql[NEXT_POSITION], (account_id,)).fetchone()[0]
            values = (
                account_id,
                position,
                name,
                email,
                language,
                name.casefold(),
                (email or "").casefold(),
                now(),
                now(),
            )
            new_id = db.execute(sql[INSERT], values).fetchone()[0]
            changes = msgspec.json.encode({"name": {"from": None, "to": name}}).decode()
            db.execute(sql[AUDIT], (account_id, new_id, "create", changes, now()))
            return customer((new_id, name, False, None, email, language, None, None, "[]", None))

        return transaction(insert)

    def rename(customer_id: int, name: str) -> dict[str, Any]:
        def update() -> dict[str, Any]:
            before = db.execute(sql[CURRENT], (account_id, customer_id)).fetchone()
            change = (name, name.casefold(), now(), account_id, customer_id)
            row = db.execute(sql[RENAME], change).fetchone()
            changes = msgspec.json.encode({"name": {"from": before[0], "to": name}}).decode()
            db.execute(sql[AUDIT], (account_id, customer_id, "update", changes, now()))
            return customer(row)

        return transaction(update)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            db.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        answer: Any
        if path == PREFIX and method == "GET":
            query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if p)
            rows = db.execute(sql[PAGE], (account_id, int(query.get("offset", 0)))).fetchall()
            answer = [customer(row, LIST_KEYS) for row in rows]
        elif path == PREFIX:
            answer = create(msgspec.json.decode(body))
        elif method == "GET":
            answer = customer(
                db.execute(sql[GET_ONE], (account_id, int(path.rsplit("/", 1)[1]))).fetchone()
            )
        else:
            answer = rename(int(path.rsplit("/", 1)[1]), msgspec.json.decode(body)["name"])
        content = msgspec.json.encode(answer)
        headers = [CONTENT_TYPE, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return app


def app_from_env() -> Asgi:
    return create_app(os.environ["FULFILMENT_DATABASE_URL"], int(os.environ["BENCH_ACCOUNT_ID"]))


def serve(target: str) -> None:
    """Serve the app factory `target` on the host and port given on the command line, as
    `fulfilment serve` serves the service."""
    from granian.constants import Interfaces
    from granian.server import Server

    host, port = sys.argv[1], int(sys.argv[2])
    Server(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        log_access=False,
    ).serve()


def main() -> None:
    serve("bench.baseline:app_from_env")


if __name__ == "__main__":
    main()
