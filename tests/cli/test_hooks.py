"""`fulfilment hooks list|create|delete|test|deliveries` against a server over TCP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from fulfilment.cli import main
from tests.hooks.receiver import Receiver
from tests.live import LiveAccount, LiveServer, live_server


@pytest.fixture(scope="module")
def hooks_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("cli-hooks-server"),
        hooks_allow_private="true",
        hooks_poll_seconds="0.05",
    ) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().up()
    try:
        yield receiver
    finally:
        receiver.down()


def hooks(server: LiveServer, account: LiveAccount, *args: str, **environ: str) -> Result:
    return CliRunner().invoke(
        main,
        ["hooks", *args],
        env={
            "FULFILMENT_URL": server.url,
            "FULFILMENT_API_KEY": account.key,
            "COLUMNS": "200",
            **environ,
        },
        catch_exceptions=False,
    )


def test_create_list_test_deliveries_and_delete(
    hooks_server: LiveServer, receiver: Receiver
) -> None:
    account = hooks_server.create_account("clihooks")
    created = hooks(
        hooks_server,
        account,
        "create",
        "--name", "From the terminal",
        "--event", "fulfilment_customers.created",
        "--address", receiver.url,
        "--json",
        FULFILMENT_HOOK_SECRET="kept out of the shell history",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    hook = json.loads(created.stdout)
    assert hook["secret"] is True
    assert "kept out" not in created.output
    idhook = str(hook["idhook"])

    listed = hooks(hooks_server, account, "list", "--json")
    assert [h["idhook"] for h in json.loads(listed.stdout)] == [hook["idhook"]]
    assert "From the terminal" in hooks(hooks_server, account, "list").stdout

    tested = hooks(hooks_server, account, "test", idhook)
    assert tested.exit_code == 0
    receiver.wait_count(1)
    deadline = time.monotonic() + 10
    while True:
        log = json.loads(hooks(hooks_server, account, "deliveries", idhook, "--json").stdout)
        if log[0]["state"] == "delivered":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert log[0]["event"] == "ping"
    table = hooks(hooks_server, account, "deliveries", idhook).stdout
    assert "ping" in table
    assert "delivered" in table

    deleted = hooks(hooks_server, account, "delete", idhook, "--json")
    assert json.loads(deleted.stdout)["active"] is False
    missing = hooks(hooks_server, account, "delete", "999")
    assert missing.exit_code == 3
    refused = hooks(
        hooks_server, account, "create", "--name", "x",
        "--event", "fulfilment_customers.created", "--address", "ftp://example.com/",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "address" in refused.output
