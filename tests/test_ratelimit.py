"""Rate limiting per API key: headers on every answer, 429 past the limit, shared via Redis."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from fulfilment.accounts import service as accounts
from fulfilment.app import create_app
from fulfilment.db import Database
from fulfilment.ratelimit import (
    LocalFixedWindow,
    LocalMovingWindow,
    LocalSlidingWindow,
    LocalWindows,
    Quota,
)
from fulfilment.settings import Settings, SettingsError
from tests.factories import API, CUSTOMERS, Tenant, make_tenant, stored_customers

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def limited(database_url: str, database: Database) -> Iterator[Tenant]:
    settings = Settings(database_url=database_url, rate_limit="5/minute")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield make_tenant(database, client, "acme")


def test_every_answer_carries_the_quota(limited: Tenant, database: Database) -> None:
    customer = limited.create_customer(name="Counted")
    _, scoped = database.write_sync(
        lambda c: accounts.create_api_key(
            c, limited.account, "own", customer["idfulfilment_customer"]
        )
    )
    answers = [
        limited.get(f"{CUSTOMERS}/{customer['idfulfilment_customer']}"),
        limited.post(CUSTOMERS, {"name": ""}),
        limited.get(f"{CUSTOMERS}/999999"),
        limited.client.get(CUSTOMERS, auth=(scoped, "X")),
    ]

    assert [a.status_code for a in answers] == [200, 400, 404, 403]
    assert [a.headers["x-ratelimit-limit"] for a in answers] == ["5"] * 4
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["3", "2", "1", "4"]


def test_past_the_limit_is_429_with_retry_after(limited: Tenant) -> None:
    answers = [limited.get(f"{API}/warehouses") for _ in range(7)]

    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    refused = answers[-1]
    assert refused.json()["error_code"] == 28
    assert refused.json()["error"] is True
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-limit"] == "5"


def test_refused_requests_change_nothing(limited: Tenant, database: Database) -> None:
    for n in range(5):
        limited.post(CUSTOMERS, {"name": f"Allowed {n}"})

    refused = limited.post(CUSTOMERS, {"name": "Refused"})

    assert refused.status_code == 429
    assert [row[3] for row in stored_customers(database)] == [f"Allowed {n}" for n in range(5)]


def test_each_key_has_its_own_budget(limited: Tenant, database: Database) -> None:
    _, second = database.write_sync(lambda c: accounts.create_api_key(c, limited.account))
    for _ in range(5):
        limited.get(CUSTOMERS)

    assert limited.get(CUSTOMERS).status_code == 429
    assert limited.client.get(CUSTOMERS, auth=(second, "X")).status_code == 200


def test_unknown_keys_are_limited_by_address(limited: Tenant) -> None:
    answers = [limited.client.get(CUSTOMERS, auth=(f"fk_guess{n}", "X")) for n in range(6)]

    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert answers[0].headers["x-ratelimit-remaining"] == "4"


def test_redis_shares_the_limit_between_instances(database_url: str, database: Database) -> None:
    settings = Settings(database_url=database_url, rate_limit="4/minute", redis_url=REDIS_URL)
    with (
        TestClient(create_app(settings)) as first,
        TestClient(create_app(settings)) as second,
    ):
        tenant = make_tenant(database, first, f"t{uuid.uuid4().hex[:8]}")
        statuses = [
            (first if n % 2 else second).get(CUSTOMERS, auth=tenant.auth).status_code
            for n in range(8)
        ]

    assert statuses == [200] * 4 + [429] * 4


def test_without_redis_each_process_limits_on_its_own(
    database_url: str, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        database_url=database_url, rate_limit="4/minute", redis_url="redis://127.0.0.1:1/0"
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(database, client, "acme")
        started = time.monotonic()
        answers = [client.get(CUSTOMERS, auth=tenant.auth) for _ in range(6)]
        elapsed = time.monotonic() - started
        ready = client.get("/ready")
        metrics = client.get("/metrics").text

    assert [a.status_code for a in answers] == [200] * 4 + [429] * 2
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["3", "2", "1", "0", "0", "0"]
    assert 55 <= int(answers[-1].headers["retry-after"]) <= 60
    assert elapsed < 2  # one connect attempt at most, not one a request
    assert (ready.status_code, ready.json()["status"], ready.json()["redis"]) == (
        200,
        "degraded",
        "unreachable",
    )
    assert "fulfilment_redis_fallback_hits_total" in metrics
    outages = [r for r in caplog.records if "Redis cannot be reached" in r.getMessage()]
    assert len(outages) == 1


@pytest.mark.parametrize("bad", [{"rate_limit": "lots"}, {"rate_limit_strategy": "leaky"}])
def test_bad_settings_fail_at_start(bad: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        create_app(Settings(database_url="sqlite://", **bad))


def test_off_switches_limiting_off(database_url: str, database: Database) -> None:
    with TestClient(create_app(Settings(database_url=database_url, rate_limit="off"))) as client:
        tenant = make_tenant(database, client, "acme")
        answers = [client.get(CUSTOMERS, auth=tenant.auth) for _ in range(3)]

    assert [a.status_code for a in answers] == [200] * 3
    assert "x-ratelimit-limit" not in answers[0].headers


# -- the in-process counters, against models written from each strategy's definition -------

Step = tuple[float, int]  # (seconds since the previous hit, which caller)
steps = st.lists(
    st.tuples(st.floats(min_value=0, max_value=150, allow_nan=False), st.integers(0, 1)),
    max_size=60,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _replay(
    windows: type[LocalWindows[Any]], amount: int, period: float, plan: list[Step]
) -> tuple[Clock, LocalWindows[Any], list[tuple[float, int, Quota]]]:
    clock = Clock()
    limiter = windows(amount, period, clock)
    seen = []
    for gap, caller in plan:
        clock.now += gap
        seen.append((clock.now, caller, limiter.hit(f"key:{caller}")))
    return clock, limiter, seen


def _allowed_before(seen: list[tuple[float, int, Quota]], index: int) -> list[float]:
    _, caller, _ = seen[index]
    return [t for t, c, q in seen[:index] if c == caller and q.allowed]


@given(st.integers(1, 4), st.sampled_from([1.0, 60.0]), steps)
def test_moving_window_allows_exactly_amount_per_period(
    amount: int, period: float, plan: list[Step]
) -> None:
    _, _, seen = _replay(LocalMovingWindow, amount, period, plan)
    for index, (now, _, quota) in enumerate(seen):
        recent = [t for t in _allowed_before(seen, index) if t > now - period]
        assert quota.allowed == (len(recent) < amount)
        assert quota.remaining == (amount - len(recent) - 1 if quota.allowed else 0)
        if not quota.allowed:  # the oldest recent hit leaves within Retry-After, not long before
            assert now + quota.retry_after - period >= recent[0]
            assert quota.retry_after <= recent[0] + period - now + 1.001


@given(st.integers(1, 4), st.sampled_from([1.0, 60.0]), steps)
def test_fixed_window_counts_from_the_first_hit(
    amount: int, period: float, plan: list[Step]
) -> None:
    _, _, seen = _replay(LocalFixedWindow, amount, period, plan)
    starts: dict[int, float] = {}
    counts: dict[int, int] = {}
    for now, caller, quota in seen:
        if caller not in starts or starts[caller] + period <= now:
            starts[caller], counts[caller] = now, 0
        assert quota.allowed == (counts[caller] < amount)
        counts[caller] += quota.allowed
        assert quota.remaining == amount - counts[caller]
        if not quota.allowed:
            assert now + quota.retry_after >= starts[caller] + period


@given(st.integers(1, 4), st.sampled_from([1.0, 60.0]), steps)
def test_sliding_window_weighs_the_previous_window(
    amount: int, period: float, plan: list[Step]
) -> None:
    _, _, seen = _replay(LocalSlidingWindow, amount, period, plan)
    for index, (now, _, quota) in enumerate(seen):
        number = now // period
        before = _allowed_before(seen, index)
        previous = sum(1 for t in before if t // period == number - 1)
        current = sum(1 for t in before if t // period == number)
        weighted = previous * (1 - (now % period) / period) + current
        assert quota.allowed == (math.floor(weighted) < amount)
        if quota.allowed:
            assert quota.remaining == max(0, amount - math.floor(weighted + 1))
        # Never more than `amount` in one aligned window.
        assert current + quota.allowed <= amount


@pytest.mark.parametrize("windows", [LocalMovingWindow, LocalSlidingWindow, LocalFixedWindow])
@given(amount=st.integers(1, 4), plan=steps)
def test_a_refused_caller_is_allowed_after_retry_after(
    windows: type[LocalWindows[Any]], amount: int, plan: list[Step]
) -> None:
    clock, limiter, seen = _replay(windows, amount, 60.0, [*plan, *[(0.0, 0)] * (amount + 1)])
    now, caller, quota = seen[-1]
    assert not quota.allowed  # amount + 1 hits at one moment
    clock.now = now + quota.retry_after
    assert limiter.hit(f"key:{caller}").allowed


@pytest.mark.parametrize("windows", [LocalMovingWindow, LocalSlidingWindow, LocalFixedWindow])
def test_callers_of_past_windows_are_forgotten(windows: type[LocalWindows[Any]]) -> None:
    clock = Clock()
    limiter = windows(5, 60.0, clock)
    for address in range(1000):
        limiter.hit(f"address:{address}")
    assert len(limiter) == 1000
    clock.now += 3 * 60
    limiter.hit("key:one")
    assert len(limiter) == 1
