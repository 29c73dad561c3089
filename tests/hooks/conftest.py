"""Fixtures of the hooks tests: the app with private addresses allowed (the receiver is on
127.0.0.1), a quick worker, and a receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fulfilment.settings import Settings

from .receiver import Receiver

SECRET_KEY = "test-hooks-secret-key-0123456789abcdef"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        hooks_allow_private=True,
        hooks_poll_seconds=0.05,
        hooks_retry_scale=0.01,
        hooks_lease_seconds=5,
        encryption_key=SECRET_KEY,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().up()
    try:
        yield receiver
    finally:
        receiver.down()
