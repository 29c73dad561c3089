"""The blocking client against `fulfilment serve` over TCP, including a rate-limited one."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from fulfilment.client import (
    Client,
    ConnectionFailed,
    NotFound,
    RateLimited,
    RetryPolicy,
)
from tests.live import LiveAccount, LiveServer, free_port, live_server


def test_create_get_update_and_list(server: LiveServer, live_account: LiveAccount) -> None:
    with Client(server.url, api_key=live_account.key) as client:
        created = client.customers.create(
            name="Fulfilling Partners",
            can_login=True,
            username="partners",
            password="ue73hjdf893",
            allowed_shipping_profiles=live_account.profiles,
            preferred_idwarehouse=live_account.warehouse,
        )
        updated = client.customers.update(created.idfulfilment_customer, name="Partners BV")
        fetched = client.customers.get(created.idfulfilment_customer)
        listed = list(client.customers.list())

    assert fetched == updated
    assert updated.name == "Partners BV"
    assert updated.allowed_shipping_profiles == live_account.profiles
    assert [item.idfulfilment_customer for item in listed] == [created.idfulfilment_customer]
    assert listed[0].name == "Partners BV"


def test_list_walks_pages_over_tcp(server: LiveServer, live_account: LiveAccount) -> None:
    with Client(server.url, api_key=live_account.key) as client:
        ids = [client.customers.create(name=f"C{n}").idfulfilment_customer for n in range(230)]
        listed = [item.idfulfilment_customer for item in client.customers.list()]

    assert listed == ids


def test_a_bare_host_gets_the_api_path(server: LiveServer, live_account: LiveAccount) -> None:
    with Client(f"http://127.0.0.1:{server.port}", api_key=live_account.key) as client:
        with pytest.raises(NotFound):
            client.customers.get(123456789)
        assert client.base_url == server.url


def test_a_server_that_is_down_raises_connection_failed_after_the_get_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v1/"
    retry = RetryPolicy(network=2, backoff=0.05)

    with (
        caplog.at_level(logging.WARNING, "fulfilment.client"),
        Client(url, api_key="fk_secret-key-value", retry=retry) as client,
        pytest.raises(ConnectionFailed) as raised,
    ):
        client.customers.get(1)

    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2
    assert "fk_secret-key-value" not in caplog.text
    assert "fk_secret-key-value" not in str(raised.value)


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("limited"), rate_limit="3/second") as running:
        yield running


@pytest.fixture(scope="module")
def limited_account(limited_server: LiveServer) -> LiveAccount:
    return limited_server.create_account("limited")


def burst(client: Client, count: int) -> list[str]:
    return [client.customers.create(name=f"Burst {n}").name for n in range(count)]


def test_a_rate_limited_server_answers_429_to_a_burst(
    limited_server: LiveServer, limited_account: LiveAccount
) -> None:
    key = limited_server.new_key(limited_account.subdomain)

    with (
        Client(limited_server.url, api_key=key, retry=RetryPolicy.never()) as client,
        pytest.raises(RateLimited) as raised,
    ):
        burst(client, 10)

    assert raised.value.status == 429
    assert raised.value.error_code == 28
    assert raised.value.retry_after is not None
    assert 1 <= raised.value.retry_after <= 2


def test_the_client_waits_out_the_rate_limit_and_finishes_the_burst(
    limited_server: LiveServer, limited_account: LiveAccount, caplog: pytest.LogCaptureFixture
) -> None:
    key = limited_server.new_key(limited_account.subdomain)
    started = time.monotonic()

    with (
        caplog.at_level(logging.WARNING, "fulfilment.client"),
        Client(limited_server.url, api_key=key) as client,
    ):
        names = burst(client, 10)

    assert names == [f"Burst {n}" for n in range(10)]
    retries = [r for r in caplog.records if "rate limited" in r.getMessage()]
    assert retries, "the burst was never limited"
    # Three requests a second: ten need at least three seconds of waiting.
    assert time.monotonic() - started >= 2.5
    assert key not in caplog.text
