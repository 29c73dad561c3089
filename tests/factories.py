"""Test data built through the service's own code, on the test's real database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.accounts import service as accounts
from fulfilment.db import Database
from fulfilment.reference import service as reference
from fulfilment.tables import fulfilment_customers

API = "/api/v1"
CUSTOMERS = f"{API}/fulfilment/customers"


def as_json(body: Any) -> bytes:
    """JSON with non-ASCII escaped, so that bodies may hold strings UTF-8 cannot encode."""
    return json.dumps(body).encode()


@dataclass
class Tenant:
    """An account seen through one of its API keys."""

    client: TestClient
    account: accounts.Account
    key: str
    warehouse: int
    template: int
    profiles: list[int]
    key_ids: list[int] = field(default_factory=list)

    @property
    def auth(self) -> tuple[str, str]:
        return (self.key, "X")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, auth=self.auth, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, content=as_json(body), auth=self.auth, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.put(path, content=as_json(body), auth=self.auth, **kwargs)

    def create_customer(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "Customer", **fields}
        answer = self.post(CUSTOMERS, body)
        assert answer.status_code == 200, answer.text
        created: dict[str, Any] = answer.json()
        return created


def wait_until(condition: Callable[[], bool], seconds: float = 10.0, what: str = "so") -> None:
    """Return once `condition()` holds; fail after `seconds`, naming `what` was awaited."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still not {what} after {seconds} s"
        time.sleep(0.02)


def status_within(send: Callable[[], httpx.Response], wanted: int, seconds: float = 2.0) -> int:
    """The status `send()` answers once it is `wanted`, or the last one after `seconds`.
    A revocation reaches a worker's key cache through a PostgreSQL notification, which
    arrives milliseconds after the commit rather than with it."""
    deadline = time.monotonic() + seconds
    while True:
        status = send().status_code
        if status == wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.01)


def stored_customers(database: Database) -> list[tuple[Any, ...]]:
    """Every stored customer row, password hash included: to prove nothing changed."""
    statement = sa.select(fulfilment_customers).order_by(
        fulfilment_customers.c.idfulfilment_customer
    )
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def make_tenant(database: Database, client: TestClient, subdomain: str) -> Tenant:
    async def build(connection: Any) -> Tenant:
        account = await accounts.create_account(connection, subdomain.title() + " BV", subdomain)
        warehouse = await reference.create_warehouse(connection, account.id, "Main")
        template = await reference.create_template(connection, account.id, "Default", default=True)
        provider = await reference.create_shipping_provider(
            connection, account.id, "PostNL", "PostNL", ["Standard", "Signature"]
        )
        key_id, key = await accounts.create_api_key(connection, account, "tests")
        return Tenant(
            client=client,
            account=account,
            key=key,
            warehouse=warehouse.idwarehouse,
            template=template.idtemplate,
            profiles=[p.idshippingprovider_profile for p in provider.profiles],
            key_ids=[key_id],
        )

    return database.write_sync(build)


def fullwidth(text: str) -> str:
    """`text` in fullwidth forms ("ｐａｒｔｎｅｒｓ" for "partners"): a look-alike of it."""  # noqa: RUF002
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` in a /metrics text whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total
