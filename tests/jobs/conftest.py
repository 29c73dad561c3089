"""Fixtures of the engine's tests: a quick engine, receivers, and addresses that take a
connection and never answer."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from fulfilment.settings import Settings
from tests.hooks.receiver import Receiver

SECRET_KEY = "test-jobs-secret-key-0123456789abcdef"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        hooks_allow_private=True,
        hooks_poll_seconds=0.05,
        hooks_retry_scale=0.01,
        encryption_key=SECRET_KEY,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().up()
    try:
        yield receiver
    finally:
        receiver.down()


@pytest.fixture
def silent_addresses() -> Iterator[list[str]]:
    """40 addresses whose server completes every connection (the kernel does) and never
    reads a request nor answers."""
    listeners = [socket.create_server(("127.0.0.1", 0), backlog=64) for _ in range(40)]
    try:
        yield [f"http://127.0.0.1:{s.getsockname()[1]}/never" for s in listeners]
    finally:
        for listener in listeners:
            listener.close()
