"""Fixtures of the client tests: the app in process, and a server over TCP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import LiveAccount, LiveServer, live_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


_accounts = iter(range(1, 10**6))


@pytest.fixture
def live_account(server: LiveServer) -> LiveAccount:
    """A new account on the shared server, so that tests do not see each other's data."""
    return server.create_account(f"live{next(_accounts)}")
