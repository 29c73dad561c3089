"""The login throttle under attack: attempts reserved before the password check, limits per
username and address that a guesser elsewhere cannot use to lock a customer out, and input
PostgreSQL cannot store counted like any other wrong login."""

from __future__ import annotations

import asyncio
import logging
import threading
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
from tests.factories import Tenant
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


def test_a_login_flood_fills_a_bounded_queue_and_leaves_api_password_hashing_free(
    settings: Settings, tenant: Tenant
) -> None:
    off = {
        f"portal_login_limit_per_{kind}": "off"
        for kind in ("username", "address", "username_and_address")
    }
    visitors = Visitors(replace(settings, **off))
    release = threading.Event()
    flood = passwords.LOGIN_QUEUE_LIMIT + 40
    # The login thread is held by a job of the test's own, which takes one place in the
    # queue: each login's verification waits behind it.
    queued = passwords.LOGIN_QUEUE_LIMIT - 1

    async def scenario() -> tuple[list[int], int, httpx.Response, list[int]]:
        transport = httpx.ASGITransport(app=visitors.app, client=("192.0.2.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            token = form_token((await client.get(f"{BASE}login")).text)
            held = asyncio.ensure_future(passwords._for_logins.run(release.wait))
            body = {"csrf_token": token, "username": "nobody", "password": "wrong"}
            logins = [asyncio.ensure_future(client.post(f"{BASE}login", data=body))
                      for _ in range(flood)]  # fmt: skip
            try:
                async with asyncio.timeout(60):
                    # Those beyond the queue are answered while the thread is still held.
                    while sum(f.done() for f in logins) < flood - queued:
                        await asyncio.wait(
                            [f for f in logins if not f.done()],
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                    refused = [f.result().status_code for f in logins if f.done()]
                    # The API hashes on a queue of its own: its write is not held up.
                    created = await client.post(
                        "/api/v1/fulfilment/customers",
                        json={"name": "Hashed", "can_login": True, "username": "hashed",
                              "password": "a good password"},
                        auth=tenant.auth,
                    )  # fmt: skip
                    waiting = sum(not f.done() for f in logins)
            finally:
                release.set()
            await held
            answers = [answer.status_code for answer in await asyncio.gather(*logins)]
            return refused, waiting, created, answers

    refused, waiting, created, answers = visitors.run(scenario())

    assert refused == [503] * (flood - queued)
    assert created.status_code == 200, created.text
    assert waiting == queued
    assert sorted(answers) == [401] * queued + [503] * (flood - queued)
