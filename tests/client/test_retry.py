"""Retries and error mapping, against a scripted network (the edge of the world)."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import formatdate

import httpx
import pytest

from fulfilment.client import (
    AsyncClient,
    BadRequest,
    Client,
    ConnectionFailed,
    RateLimited,
    RetryPolicy,
    ServerError,
    UnexpectedResponse,
)

URL = "http://api.test/api/v1/"
LIMITED = {"error": True, "error_code": 28, "error_message": "Rate limit exceeded."}
CUSTOMER = {"idfulfilment_customer": 7, "name": "Acme"}


def scripted(*answers: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[str]]:
    """A transport that gives `answers` in turn and records each request's method."""
    seen: list[str] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle), seen


def limited(retry_after: str | None = "1") -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(429, json=LIMITED, headers=headers)


def client(transport: httpx.MockTransport, **retry: float) -> Client:
    return Client(URL, api_key="key", transport=transport, retry=RetryPolicy(**retry))  # type: ignore[arg-type]


def timed(work: Callable[[], object]) -> float:
    started = time.monotonic()
    work()
    return time.monotonic() - started


def test_a_429_is_retried_after_the_seconds_retry_after_asks() -> None:
    transport, seen = scripted(limited("1"), httpx.Response(200, json=CUSTOMER))

    with client(transport) as api:
        elapsed = timed(lambda: api.customers.get(7))

    assert seen == ["GET", "GET"]
    assert 1.0 <= elapsed < 3


def test_a_429_on_a_create_is_retried_too() -> None:
    transport, seen = scripted(limited("0"), httpx.Response(200, json=CUSTOMER))

    with client(transport) as api:
        created = api.customers.create(name="Acme")

    assert seen == ["POST", "POST"]
    assert created.idfulfilment_customer == 7


def test_retry_after_as_an_http_date_is_honoured() -> None:
    in_two_seconds = formatdate(time.time() + 2, usegmt=True)
    transport, seen = scripted(limited(in_two_seconds), httpx.Response(200, json=CUSTOMER))

    with client(transport) as api:
        elapsed = timed(lambda: api.customers.get(7))

    assert seen == ["GET", "GET"]
    assert 0.5 <= elapsed < 3.5


def test_retries_on_429_are_bounded_and_then_raise_rate_limited() -> None:
    transport, seen = scripted(limited("0"))

    with client(transport, rate_limited=3) as api, pytest.raises(RateLimited) as raised:
        api.customers.get(7)

    assert len(seen) == 4
    assert raised.value.status == 429
    assert raised.value.error_code == 28
    assert raised.value.message == "Rate limit exceeded."
    assert raised.value.retry_after == 0


def test_a_wait_longer_than_max_wait_raises_at_once() -> None:
    transport, seen = scripted(limited("3600"))

    started = time.monotonic()
    with client(transport, max_wait=5) as api, pytest.raises(RateLimited) as raised:
        api.customers.get(7)

    assert time.monotonic() - started < 1
    assert seen == ["GET"]
    assert raised.value.retry_after == 3600


def test_a_429_without_retry_after_backs_off() -> None:
    transport, seen = scripted(limited(None), httpx.Response(200, json=CUSTOMER))

    with client(transport, backoff=0.2) as api:
        elapsed = timed(lambda: api.customers.get(7))

    assert seen == ["GET", "GET"]
    assert elapsed >= 0.2


def test_a_get_is_retried_after_a_network_error() -> None:
    transport, seen = scripted(
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json=CUSTOMER),
    )

    with client(transport, backoff=0.01, network=2) as api:
        customer = api.customers.get(7)

    assert seen == ["GET", "GET", "GET"]
    assert customer.name == "Acme"


def test_network_retries_are_bounded() -> None:
    transport, seen = scripted(httpx.ConnectError("refused"))

    with client(transport, backoff=0.01, network=2) as api, pytest.raises(ConnectionFailed):
        api.customers.get(7)

    assert len(seen) == 3


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_write_is_never_retried_after_a_network_error(method: str) -> None:
    transport, seen = scripted(httpx.ReadTimeout("slow"), httpx.Response(200, json=CUSTOMER))

    with client(transport, backoff=0.01) as api:
        write = (
            (lambda: api.customers.create(name="Acme"))
            if method == "POST"
            else (lambda: api.customers.update(7, name="Acme"))
        )
        with pytest.raises(ConnectionFailed) as raised:
            write()

    assert seen == [method]
    assert "key" not in str(raised.value)


def test_never_means_no_retries() -> None:
    transport, seen = scripted(limited("0"), httpx.Response(200, json=CUSTOMER))

    with (
        Client(URL, api_key="key", transport=transport, retry=RetryPolicy.never()) as api,
        pytest.raises(RateLimited),
    ):
        api.customers.get(7)

    assert seen == ["GET"]


def test_an_error_page_without_the_wire_body_still_raises_a_typed_error() -> None:
    transport, _ = scripted(httpx.Response(502, text="<html>Bad Gateway</html>"))

    with client(transport) as api, pytest.raises(ServerError) as raised:
        api.customers.get(7)

    assert raised.value.status == 502
    assert raised.value.error_code is None
    assert raised.value.message == "HTTP 502 Bad Gateway"


def test_other_4xx_answers_raise_bad_request_with_their_status() -> None:
    body = {"error": True, "error_code": 8, "error_message": "DELETE is not allowed here."}
    transport, _ = scripted(httpx.Response(405, json=body))

    with client(transport) as api, pytest.raises(BadRequest) as raised:
        api.customers.get(7)

    assert (raised.value.status, raised.value.error_code) == (405, 8)
    assert str(raised.value) == "DELETE is not allowed here. (HTTP 405, error_code 8)"


def test_a_success_with_a_body_that_is_not_the_api_s_raises_unexpected_response() -> None:
    transport, _ = scripted(httpx.Response(200, text="<html>captive portal</html>"))

    with client(transport) as api, pytest.raises(UnexpectedResponse):
        api.customers.get(7)


@pytest.mark.anyio
async def test_the_async_client_honours_retry_after_too() -> None:
    transport, seen = scripted(limited("1"), httpx.Response(200, json=CUSTOMER))

    async with AsyncClient(URL, api_key="key", transport=transport) as api:
        started = time.monotonic()
        customer = await api.customers.get(7)
        elapsed = time.monotonic() - started

    assert seen == ["GET", "GET"]
    assert customer.name == "Acme"
    assert elapsed >= 1.0


@pytest.mark.anyio
async def test_the_async_client_does_not_retry_a_write_after_a_network_error() -> None:
    transport, seen = scripted(httpx.ConnectError("refused"), httpx.Response(200, json=CUSTOMER))

    async with AsyncClient(URL, api_key="key", transport=transport) as api:
        with pytest.raises(ConnectionFailed):
            await api.customers.create(name="Acme")

    assert seen == ["POST"]
