"""A real `fulfilment serve` process (see `servers.py`) on a temporary SQLite file, with
accounts set up through the service's own code rather than one command per object."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fulfilment import migrate
from fulfilment.accounts import service as accounts
from fulfilment.db import Database
from fulfilment.reference import service as reference
from fulfilment.settings import Settings

from .servers import free_port, running_server

__all__ = ["LiveAccount", "LiveServer", "free_port", "live_server"]


@dataclass
class LiveAccount:
    """An account of a live server, seen through one API key."""

    subdomain: str
    key: str
    warehouse: int
    template: int
    profiles: list[int]


@dataclass
class LiveServer:
    url: str
    """The API's base URL, `http://127.0.0.1:{port}/api/v1/`."""
    port: int
    database_url: str
    environ: dict[str, str]
    """The environment the server runs with (for `fulfilment` commands on the same data)."""

    def _write(self, work: Any) -> Any:
        database = Database(Settings(database_url=self.database_url))
        try:
            return database.write_sync(work)
        finally:
            database.close()

    def create_account(self, subdomain: str) -> LiveAccount:
        """An account with a warehouse, a template, two shipping profiles and a key."""

        async def build(connection: Any) -> LiveAccount:
            account = await accounts.create_account(connection, subdomain.title(), subdomain)
            warehouse = await reference.create_warehouse(connection, account.id, "Main")
            template = await reference.create_template(
                connection, account.id, "Default", default=True
            )
            provider = await reference.create_shipping_provider(
                connection, account.id, "PostNL", "PostNL", ["Standard", "Signature"]
            )
            _, key = await accounts.create_api_key(connection, account, "tests")
            return LiveAccount(
                subdomain=subdomain,
                key=key,
                warehouse=warehouse.idwarehouse,
                template=template.idtemplate,
                profiles=[p.idshippingprovider_profile for p in provider.profiles],
            )

        account: LiveAccount = self._write(build)
        return account

    def new_key(self, subdomain: str) -> str:
        """Another API key of the account, with a rate-limit window of its own."""

        async def create(connection: Any) -> str:
            account = await accounts.get_account(connection, subdomain)
            return (await accounts.create_api_key(connection, account, "tests"))[1]

        key: str = self._write(create)
        return key


@contextmanager
def live_server(directory: Path, **settings: str) -> Iterator[LiveServer]:
    """Serve a fresh SQLite database in `directory`; `settings` are FULFILMENT_* values
    (`rate_limit="2/second"`)."""
    database_url = f"sqlite:///{directory / 'fulfilment.sqlite3'}"
    database = Database(Settings(database_url=database_url))
    migrate.upgrade(database)
    database.close()
    environ = {
        **os.environ,
        "FULFILMENT_DATABASE_URL": database_url,
        "FULFILMENT_RATE_LIMIT": "1000000/minute",
        **{f"FULFILMENT_{name.upper()}": value for name, value in settings.items()},
    }
    environ.pop("FULFILMENT_REDIS_URL", None)
    with running_server(environ) as server:
        port = int(server.url.rsplit(":", 1)[1])
        yield LiveServer(
            url=f"{server.url}/api/v1/", port=port, database_url=database_url, environ=environ
        )
