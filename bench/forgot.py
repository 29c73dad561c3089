"""Forgotten passwords: how long the portal takes to answer for a name it knows and for one
it does not, 50 tries of each, interleaved. The two medians should match: the request is
only queued, and the job that mails the link runs after the answer (it is waited for
between tries, so it never runs during one).

    python -m bench.forgot [--database-url URL] [--tries 50]
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment import migrate
from fulfilment.accounts.service import create_account, create_api_key
from fulfilment.app import create_app
from fulfilment.db import Connection, Database
from fulfilment.settings import Settings
from fulfilment.tables import mail_outbox, password_requests

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BASE = "/portal/bench/"
KEY = "bench forgot-password encryption key, 32+ characters"


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        rate_limit="off",
        mail_limit_per_address="off",
        mail_limit_per_recipient="off",
        encryption_key=KEY,
        public_url="https://portal.example.com",
    )


def _prepare(settings: Settings) -> str:
    """A migrated database with one account and one customer who may log in; its API key."""
    database = Database(settings)
    try:
        migrate.upgrade(database)

        async def make(connection: Connection) -> str:
            account = await create_account(connection, "Bench", "bench")
            return (await create_api_key(connection, account, "bench"))[1]

        return database.write_sync(make)
    finally:
        database.close()


_PENDING = sa.select(
    sa.select(sa.func.count()).where(password_requests.c.state == "pending").scalar_subquery()
    + sa.select(sa.func.count()).where(mail_outbox.c.state == "pending").scalar_subquery()
)


def _idle(database: Database) -> bool:
    """No request nor mail is waiting: nothing runs in the background during a try."""
    with database.engine.connect() as connection:
        return connection.execute(_PENDING).scalar_one() == 0


def measure(url: str, tries: int) -> tuple[float, float]:
    """The median answer (ms) to a known name and to an unknown one."""
    settings = _settings(url)
    key = _prepare(settings)
    database = Database(settings)
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    with TestClient(create_app(settings)) as client:
        created = client.post(
            "/api/v1/fulfilment/customers",
            json={
                "name": "Jansen",
                "can_login": True,
                "username": "jansen",
                "password": "bench password 1",
                "emailaddress": "jansen@customer.example",
            },
            auth=(key, "X"),
        )
        assert created.status_code == 200, created.text
        for n in range(tries * 2):
            which = "known" if n % 2 == 0 else "unknown"
            identifier = "jansen" if which == "known" else f"nobody-{n}"
            form = client.get(f"{BASE}forgot")
            token = TOKEN.search(form.text)
            assert token is not None
            data = {"csrf_token": token[1], "identifier": identifier}
            started = time.perf_counter()
            answer = client.post(f"{BASE}forgot", data=data, follow_redirects=False)
            timings[which].append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 303, answer.text
            # The jobs of this request have run before the next one is timed.
            deadline = time.monotonic() + 30
            while not _idle(database):
                assert time.monotonic() < deadline, "the mail job did not run"
                time.sleep(0.01)
    database.close()
    return statistics.median(timings["known"]), statistics.median(timings["unknown"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database to use (emptied first)")
    parser.add_argument("--tries", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'forgot.db'}"
        known, unknown = measure(url, args.tries)
    print(f"forgot-password, median of {args.tries} tries each ({url.split(':')[0]}):")
    print(f"  known name:   {known:.2f} ms")
    print(f"  unknown name: {unknown:.2f} ms")


if __name__ == "__main__":
    main()
