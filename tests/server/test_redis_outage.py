"""Redis holds shared counters, not data: servers keep answering while their Redis is
killed or paused, and share the limit again soon after it answers. Real granian servers on
one PostgreSQL, with a redis-server of the test's own."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest

from tests.conftest import _empty_postgres
from tests.live import LiveServer
from tests.servers import RedisServer, Server, running_server

# What these tests measure is how long a request waits: they run alone (`make test` runs the
# tests marked serial after the others), not beside others that keep both cores busy.
pytestmark = pytest.mark.serial

WAREHOUSES = "/api/v1/warehouses"
LIMIT = 6


def _servers(postgres_database: str, redis_url: str, count: int) -> tuple[ExitStack, list[Server]]:
    _empty_postgres(postgres_database)
    env = {
        "FULFILMENT_DATABASE_URL": postgres_database,
        "FULFILMENT_REDIS_URL": redis_url,
        "FULFILMENT_RATE_LIMIT": f"{LIMIT}/minute",
    }
    stack = ExitStack()
    servers = [stack.enter_context(running_server(env)) for _ in range(count)]
    return stack, servers


def _timed_get(
    url: str, client: httpx.Client | None = None, **options: object
) -> tuple[httpx.Response, float]:
    """An answer and how long it took; with `client`, on its open connection."""
    started = time.monotonic()
    if client is not None:
        answer = client.get(url, **options)  # type: ignore[arg-type]
    else:
        answer = httpx.get(url, timeout=5, **options)  # type: ignore[arg-type]
    return answer, time.monotonic() - started


def _alternating(servers: list[Server], key: str, count: int) -> list[httpx.Response]:
    answers = []
    for n in range(count):
        answer, elapsed = _timed_get(f"{servers[n % 2].url}{WAREHOUSES}", auth=(key, "X"))
        assert elapsed < 1, f"request {n} took {elapsed:.2f} s"
        answers.append(answer)
    return answers


def _ready(server: Server) -> dict[str, str]:
    answer = httpx.get(f"{server.url}/ready", timeout=5)
    assert answer.status_code == 200
    body: dict[str, str] = answer.json()
    return body


def test_a_killed_redis_is_served_around_and_shared_again_after_restart(
    postgres_database: str, own_redis: RedisServer
) -> None:
    stack, servers = _servers(postgres_database, own_redis.url, 2)
    with stack:
        live = LiveServer(servers[0].url, 0, postgres_database, {})
        live.create_account("acme")

        # Shared: LIMIT requests in all, whichever instance answers them.
        shared = _alternating(servers, live.new_key("acme"), LIMIT + 1)
        assert [a.status_code for a in shared] == [200] * LIMIT + [429]
        assert 55 <= int(shared[-1].headers["retry-after"]) <= 60
        assert shared[-1].json()["error_code"] == 28

        own_redis.kill()
        alone = _alternating(servers, live.new_key("acme"), 2 * LIMIT + 2)
        # Each instance counts on its own: LIMIT each, and still a limit.
        assert [a.status_code for a in alone] == [200] * 2 * LIMIT + [429] * 2
        assert 55 <= int(alone[-1].headers["retry-after"]) <= 60
        for server in servers:
            assert _ready(server) == {
                "status": "degraded",
                "database": "ok",
                "redis": "unreachable",
            }
            metrics = httpx.get(f"{server.url}/metrics").text
            assert "fulfilment_redis_outages_total 1.0" in metrics

        own_redis.start()
        restarted = time.monotonic()
        for server in servers:
            while _ready(server)["redis"] != "ok":
                assert time.monotonic() - restarted < 5, "Redis is not used again within 5 s"
                time.sleep(0.1)
        again = _alternating(servers, live.new_key("acme"), LIMIT + 1)
        assert time.monotonic() - restarted < 5 + 2
        assert [a.status_code for a in again] == [200] * LIMIT + [429]
        assert 55 <= int(again[-1].headers["retry-after"]) <= 60


def test_a_paused_redis_costs_a_request_less_than_a_second(
    postgres_database: str, own_redis: RedisServer
) -> None:
    stack, servers = _servers(postgres_database, own_redis.url, 1)
    with stack:
        server = servers[0]
        live = LiveServer(server.url, 0, postgres_database, {})
        key = live.create_account("acme").key
        url = f"{server.url}{WAREHOUSES}"
        assert httpx.get(url, auth=(key, "X")).status_code == 200
        prober = stack.enter_context(httpx.Client(timeout=5))
        assert prober.get(f"{server.url}/health").status_code == 200  # the connection is open

        own_redis.pause()
        try:
            with ThreadPoolExecutor(4) as pool:
                # The first requests find Redis silent, while /health is asked beside them.
                first = [pool.submit(_timed_get, url, auth=(key, "X")) for _ in range(3)]
                health = [_timed_get(f"{server.url}/health", prober) for _ in range(5)]
                answers = [future.result() for future in first]
            answers += [_timed_get(url, auth=(key, "X")) for _ in range(2)]
            ready, ready_took = _timed_get(f"{server.url}/ready")
        finally:
            own_redis.resume()

    assert [a.status_code for a, _ in answers] == [200] * len(answers)
    assert max(took for _, took in answers) < 1
    # Once Redis is known to be silent, nobody waits for it.
    assert max(took for _, took in answers[3:]) < 0.2
    assert [a.status_code for a, _ in health] == [200] * 5
    assert max(took for _, took in health) < 0.1
    assert ready.json()["status"] == "degraded"
    assert ready_took < 1
