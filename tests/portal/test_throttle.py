"""The login throttle under attack: attempts reserved before the password check, limits per
username and address that a guesser elsewhere cannot use to lock a customer out, and input
PostgreSQL cannot store counted like any other wrong login."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment import passwords
from fulfilment.app import create_app
from fulfilment.identity import login as service
from fulfilment.settings import Settings
from tests.servers import RedisServer

from .helpers import PASSWORD, form_token, log_in, shown_texts

T = TypeVar("T")
BASE = "/portal/acme/"
WRONG = "De gebruikersnaam of het wachtwoord is onjuist."


class Visitors:
    """Visitors of one app, each from a client address of its own, in one event loop."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)

    async def posts(
        self, address: str, username: str, passwords_: list[str]
    ) -> list[httpx.Response]:
        """Send the login form once per password, all at once, from client `address`."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            form = await client.get(f"{BASE}login")
            token = form_token(form.text)
            return await asyncio.gather(
                *(
                    client.post(
                        f"{BASE}login",
                        data={"csrf_token": token, "username": username, "password": password},
                    )
                    for password in passwords_
                )
            )

    def run(self, scenario: Coroutine[Any, Any, T]) -> T:
        """Run `scenario` in one event loop, then close the app's connections."""

        async def run() -> T:
            try:
                return await scenario
            finally:
                if self.app.state.shared_counters is not None:
                    await self.app.state.shared_counters.close()
                self.app.state.database.close()

        return asyncio.run(run())

    async def statuses(self, address: str, username: str, passwords_: list[str]) -> list[int]:
        return sorted(a.status_code for a in await self.posts(address, username, passwords_))


# With Redis, a call slower than its time limit (a starved core) moves the counting into
# the process, as it must: run alone, those tests count in Redis throughout.
@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.serial)])
def counters(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The settings with the login counters in this process, or in a Redis of the test's own."""
    if request.param == "redis":
        redis_server: RedisServer = request.getfixturevalue("own_redis")
        return replace(settings, redis_url=redis_server.url)
    return settings


def test_parallel_attempts_get_no_more_verifications_than_the_limit(
    counters: Settings, jansen: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real = service.verify_password

    async def counting(password_hash: str | None, password: str) -> bool:
        verified.append(password)
        return await real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", counting)
    visitors = Visitors(counters)

    async def attack() -> tuple[list[int], httpx.Response]:
        statuses = await visitors.statuses(
            "192.0.2.7", "Jansen", [f"wrong {n}" for n in range(120)]
        )
        # The right password afterwards is refused too: the guesses used up the attempts.
        return statuses, (await visitors.posts("192.0.2.7", "Jansen", [PASSWORD]))[0]

    statuses, after = visitors.run(attack())

    assert len(verified) == 5
    assert statuses == [401] * 5 + [429] * 115
    assert after.status_code == 429
    assert int(after.headers["retry-after"]) > 800  # the 15-minute window


def test_a_guesser_elsewhere_cannot_lock_the_customer_out(
    counters: Settings, jansen: dict[str, Any]
) -> None:
    visitors = Visitors(counters)

    async def attack() -> tuple[list[list[int]], int]:
        guesses = [
            await visitors.statuses(address, "Jansen", [f"guess {n}" for n in range(7)])
            for address in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        ]
        # 15 wrong guesses for the username, none from the customer's own address.
        return guesses, (await visitors.statuses("203.0.113.9", "jansen", [PASSWORD]))[0]

    guesses, customer = visitors.run(attack())

    assert guesses == [[401] * 5 + [429] * 2] * 3
    assert customer == 303


def test_the_username_has_a_ceiling_across_addresses(
    counters: Settings, jansen: dict[str, Any]
) -> None:
    visitors = Visitors(replace(counters, portal_login_limit_per_username="8/15 minutes"))

    async def attack() -> list[list[int]]:
        return [
            await visitors.statuses("198.51.100.1", "Jansen", [f"guess {n}" for n in range(5)]),
            await visitors.statuses("198.51.100.2", "Jansen", [f"guess {n}" for n in range(5)]),
            await visitors.statuses("203.0.113.9", "Jansen", [PASSWORD]),
        ]

    first, second, third = visitors.run(attack())

    assert first == [401] * 5
    assert second == [401] * 3 + [429] * 2
    assert third == [429]


def test_a_nul_in_the_username_is_a_wrong_login_counted_by_the_throttle(
    client: TestClient, jansen: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    answers = [log_in(client, BASE, "Jan\x00sen", PASSWORD) for _ in range(5)]
    after = log_in(client, BASE, "Jan\x00sen", PASSWORD)

    assert [a.status_code for a in answers] == [401] * 5
    assert all(WRONG in shown_texts(a.text) for a in answers)
    assert after.status_code == 429
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.exc_info]


@pytest.mark.serial  # it measures how long a write waits behind the flood
def test_a_login_flood_is_refused_early_and_does_not_hold_up_api_password_hashing(
    tmp_path: Any,
) -> None:
    from tests.live import live_server

    off = {
        f"portal_login_limit_per_{kind}": "off"
        for kind in ("username", "address", "username_and_address")
    }
    with live_server(tmp_path, **off) as server:
        account = server.create_account("acme")
        origin = server.url.removesuffix("/api/v1/")

        async def run() -> tuple[list[httpx.Response], float, float]:
            async with httpx.AsyncClient(base_url=origin, timeout=60) as client:
                form = await client.get(f"{BASE}login")
                token = form_token(form.text)
                body = {"csrf_token": token, "username": "nobody", "password": "wrong"}
                logins = [
                    asyncio.ensure_future(client.post(f"{BASE}login", data=body))
                    for _ in range(passwords.LOGIN_QUEUE_LIMIT + 40)
                ]
                await asyncio.sleep(0.3)  # the flood is in, its verifications queued
                started = asyncio.get_running_loop().time()
                created = await client.post(
                    "/api/v1/fulfilment/customers",
                    json={"name": "Hashed", "can_login": True, "username": "hashed",
                          "password": "a good password"},
                    auth=(account.key, "X"),
                )  # fmt: skip
                took = asyncio.get_running_loop().time() - started
                assert created.status_code == 200, created.text
                answers = await asyncio.gather(*logins)
                return answers, took, asyncio.get_running_loop().time() - started

        answers, create_took, flood_took = asyncio.run(run())

    assert create_took < 1.0
    statuses = [a.status_code for a in answers]
    assert set(statuses) == {401, 503}
    # The queue holds a bounded number; the rest are refused at once, not after minutes.
    assert statuses.count(401) <= passwords.LOGIN_QUEUE_LIMIT + 5
    assert flood_took > create_took
