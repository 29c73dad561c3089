"""The ceiling for reads from a PostgreSQL server that is far away: the least code that
answers GET one and a page with the service's bytes, through psycopg's async pool with as
many connections as the service's (FULFILMENT_POOL_SIZE), so that waiting for the server
never holds up the event loop. No framework, no auth, no validation; served by the same
server with the same options as `fulfilment serve`."""

from __future__ import annotations

import os
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from psycopg_pool import AsyncConnectionPool

from .baseline import CONTENT_TYPE, GET_ONE, LIST_KEYS, PAGE, PREFIX, Asgi, serve, shape


def create_app(
    url: str, account_id: int, pool_size: int, timezone: str = "Europe/Amsterdam"
) -> Asgi:
    """The baseline for the customers of `account_id` in the PostgreSQL database at `url`."""
    zone = ZoneInfo(timezone)
    conninfo = "postgresql://" + url.split("://", 1)[1]
    get_one, page = GET_ONE.replace("?", "%s"), PAGE.replace("?", "%s")
    pools: list[AsyncConnectionPool[Any]] = []

    async def fetch(sql: str, values: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with pools[0].connection() as connection:
            cursor = await connection.execute(sql, values)
            return await cursor.fetchall()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                    conninfo,
                    min_size=pool_size,
                    max_size=pool_size,
                    kwargs={"autocommit": True},
                    open=False,
                )
                await pool.open(wait=True)
                pools.append(pool)
                await send({"type": "lifespan.startup.complete"})
            for pool in pools:
                await pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        path = scope["path"]
        answer: Any
        if path == PREFIX:
            query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if p)
            rows = await fetch(page, (account_id, int(query.get("offset", 0))))
            answer = [shape(row, zone, LIST_KEYS) for row in rows]
        else:
            rows = await fetch(get_one, (account_id, int(path.rsplit("/", 1)[1])))
            answer = shape(rows[0], zone)
        content = msgspec.json.encode(answer)
        headers = [CONTENT_TYPE, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return app


def app_from_env() -> Asgi:
    return create_app(
        os.environ["FULFILMENT_DATABASE_URL"],
        int(os.environ["BENCH_ACCOUNT_ID"]),
        int(os.environ.get("FULFILMENT_POOL_SIZE", "5")),
    )


def main() -> None:
    serve("bench.async_baseline:app_from_env")


if __name__ == "__main__":
    main()
