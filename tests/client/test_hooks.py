"""`client.hooks` against a server over TCP, and the receiver helper on real deliveries."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from fulfilment.client import (
    CUSTOMER_CHANGED,
    CUSTOMER_CREATED,
    BadRequest,
    Client,
    Hook,
    NotFound,
)
from fulfilment.client.webhooks import InvalidSignature, verify
from tests.hooks.receiver import Receiver
from tests.live import LiveServer, live_server

from .test_import_alone import SERVER_ONLY

SECRET = "the receiver's secret"


@pytest.fixture(scope="module")
def hooks_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("hooks-server"),
        hooks_allow_private="true",
        hooks_poll_seconds="0.05",
        encryption_key="client-tests-hooks-secret-key-0123456789",
    ) as running:
        yield running


_accounts = iter(range(1, 10**6))


@pytest.fixture
def client(hooks_server: LiveServer) -> Iterator[Client]:
    account = hooks_server.create_account(f"hooks{next(_accounts)}")
    with Client(hooks_server.url, api_key=account.key) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().up()
    try:
        yield receiver
    finally:
        receiver.down()


def test_every_hooks_method(client: Client, receiver: Receiver) -> None:
    hook = client.hooks.create("Sync", CUSTOMER_CREATED, receiver.url, secret=SECRET)
    assert isinstance(hook, Hook)
    assert hook.secret is True
    assert client.hooks.get(hook.idhook) == hook
    assert list(client.hooks.list()) == [hook]
    updated = client.hooks.update(hook.idhook, name="Renamed", secret=None)
    assert (updated.name, updated.secret, updated.address) == ("Renamed", False, receiver.url)
    assert client.hooks.delete(hook.idhook).active is False
    assert client.hooks.reactivate(hook.idhook).active is True
    client.hooks.test(hook.idhook)
    [ping] = receiver.wait_count(1)
    assert ping.payload["event"] == "ping"
    deadline = time.monotonic() + 10
    while [d.state for d in client.hooks.deliveries(hook.idhook)] != ["delivered"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [delivery] = client.hooks.deliveries(hook.idhook)
    assert delivery.event == "ping"
    assert delivery.attempts[0].status == 200
    with pytest.raises(NotFound):
        client.hooks.get(hook.idhook + 1000)
    with pytest.raises(BadRequest, match="address"):
        client.hooks.create("Again", CUSTOMER_CREATED, receiver.url)


def test_the_receiver_helper_checks_either_signature(client: Client, receiver: Receiver) -> None:
    client.hooks.create("Changes", CUSTOMER_CHANGED, receiver.url, secret=SECRET)
    created = client.customers.create(name="Watched")
    changed = client.customers.update(created.idfulfilment_customer, name="Watched closely")
    [got] = receiver.wait_count(1)
    headers = got.headers

    event = verify(got.body, headers, SECRET)

    assert event.event == CUSTOMER_CHANGED
    assert event.customer() == changed
    assert event.webhook_id == headers["webhook-id"]
    # Stripped of its timestamped headers, the delivery could be replayed at any time:
    # refused, unless the receiver asks for the hosted system's scheme alone.
    picqer_only = {"X-Picqer-Signature": headers["x-picqer-signature"]}
    with pytest.raises(InvalidSignature, match="allow_unstamped=True"):
        verify(got.body, picqer_only, SECRET)
    assert verify(got.body, picqer_only, SECRET, allow_unstamped=True).customer() == changed
    with pytest.raises(InvalidSignature):
        verify(got.body, {"X-Picqer-Signature": "bm90IGl0"}, SECRET, allow_unstamped=True)
    for body, sent, secret in [
        (got.body, headers, "another secret"),
        (got.body.replace(b"closely", b"loosely"), headers, SECRET),
        (got.body, {**headers, "webhook-id": "msg_other"}, SECRET),
        (got.body, {"X-Picqer-Signature": "bm90IGl0"}, SECRET),
        (got.body, {}, SECRET),
    ]:
        with pytest.raises(InvalidSignature):
            verify(body, sent, secret)
    # A replay after the tolerance is refused; within it, accepted.
    sent_at = int(headers["webhook-timestamp"])
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(got.body, headers, SECRET, now=sent_at + 301)
    assert verify(got.body, headers, SECRET, now=sent_at + 299).event == CUSTOMER_CHANGED


def test_the_receiver_helper_needs_nothing_of_the_server() -> None:
    program = textwrap.dedent(
        """
        import sys

        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is not installed here")
                return None

        sys.meta_path.insert(0, Refuse())
        from fulfilment.client.webhooks import verify
        body = b'{"idhook":1,"name":"n","event":"ping","event_triggered_at":"x","data":{}}'
        import base64, hashlib, hmac
        signature = base64.b64encode(hmac.new(b"s", body, hashlib.sha256).digest()).decode()
        print(verify(body, {"X-Picqer-Signature": signature}, "s", allow_unstamped=True).event)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", f"BLOCKED = {SERVER_ONLY!r}\n{program}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ping"
