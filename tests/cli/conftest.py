"""Fixtures of the command-line tests: a server over TCP and a runner aimed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fulfilment.cli import main
from tests.live import LiveAccount, LiveServer, live_server

Run = Callable[..., Result]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("cli-server")) as running:
        yield running


_accounts = iter(range(1, 10**6))


@pytest.fixture
def account(server: LiveServer) -> LiveAccount:
    """A new account on the shared server, so that tests do not see each other's data."""
    return server.create_account(f"cli{next(_accounts)}")


@pytest.fixture
def run(server: LiveServer, account: LiveAccount) -> Run:
    """`fulfilment customers ARGS...` with FULFILMENT_URL and FULFILMENT_API_KEY set."""

    def invoke(*args: str, input: str | None = None, **environ: Any) -> Result:
        runner = CliRunner()
        return runner.invoke(
            main,
            ["customers", *args],
            input=input,
            env={
                "FULFILMENT_URL": server.url,
                "FULFILMENT_API_KEY": account.key,
                "COLUMNS": "200",
                **environ,
            },
            catch_exceptions=False,
        )

    return invoke
