"""A real `fulfilment serve` process on 127.0.0.1 and a free port, on a temporary SQLite
file, with an account set up through the service's own code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from fulfilment import migrate
from fulfilment.accounts import service as accounts
from fulfilment.db import Database
from fulfilment.reference import service as reference
from fulfilment.settings import Settings


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

        def build(connection: Any) -> LiveAccount:
            account = accounts.create_account(connection, subdomain.title(), subdomain)
            warehouse = reference.create_warehouse(connection, account.id, "Main")
            template = reference.create_template(connection, account.id, "Default", default=True)
            provider = reference.create_shipping_provider(
                connection, account.id, "PostNL", "PostNL", ["Standard", "Signature"]
            )
            _, key = accounts.create_api_key(connection, account, "tests")
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

        def create(connection: Any) -> str:
            account = accounts.get_account(connection, subdomain)
            return accounts.create_api_key(connection, account, "tests")[1]

        key: str = self._write(create)
        return key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
    port = free_port()
    log = (directory / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fulfilment.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api/v1/"
    try:
        _wait_until_up(url, process, directory / "server.log")
        yield LiveServer(url=url, port=port, database_url=database_url, environ=environ)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within 30 s:\n{log.read_text()}")
