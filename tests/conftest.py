"""Fixtures: a real database per test (an SQLite file, or a PostgreSQL database emptied
between tests), the app built on it, and factories for accounts and reference data."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment import migrate
from fulfilment.app import create_app
from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.tables import metadata

from .factories import Tenant, make_tenant
from .mail.smtp import Inbox, smtp_server
from .servers import ENCRYPTION_KEY, PgBouncer, RedisServer

POSTGRES_SERVER_URL = os.environ.get(
    "FULFILMENT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that takes a database runs on each backend; those marked `pgbouncer`
    also on PostgreSQL through a PgBouncer in transaction pooling mode."""
    if "database_url" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        if "database_url" in str(marker.args[0]).split(","):
            return  # the test names its backends itself
    backends = list(BACKENDS)
    if metafunc.definition.get_closest_marker("pgbouncer") is not None:
        backends.append("pgbouncer")
    metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "fulfilment.sqlite3"
    database = Database(Settings(database_url=f"sqlite:///{path}"))
    migrate.upgrade(database)
    database.close()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    server = sa.make_url(POSTGRES_SERVER_URL).set(drivername="postgresql+psycopg")
    name = f"fulfilment_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    database = Database(Settings(database_url=url))
    migrate.upgrade(database)
    database.close()
    yield url
    if (emptying := _emptying.pop(url, None)) is not None:
        emptying.dispose()
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def pgbouncer() -> Iterator[PgBouncer]:
    """A PgBouncer of this test session's own, three server connections in its pool."""
    bouncer = PgBouncer(POSTGRES_SERVER_URL, pool_size=3)
    bouncer.start()
    yield bouncer
    bouncer.stop()


_emptying: dict[str, sa.Engine] = {}


def _empty_postgres(url: str) -> None:
    """Delete every row and restart every sequence. Row by row rather than TRUNCATE: a
    test leaves a few rows, and TRUNCATE of every table gives each a new file (0.2-0.4 s
    a test, against a few milliseconds)."""
    engine = _emptying.get(url)
    if engine is None:
        engine = _emptying[url] = sa.create_engine(sa.make_url(url), pool_pre_ping=True)
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
        connection.exec_driver_sql(
            "SELECT setval(oid::regclass, 1, false) FROM pg_class WHERE relkind = 'S'"
        )


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "fulfilment.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    if request.param == "pgbouncer":
        bouncer: PgBouncer = request.getfixturevalue("pgbouncer")
        return bouncer.url(url)
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, rate_limit="1000000/minute", encryption_key=ENCRYPTION_KEY
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def tenant(database: Database, client: TestClient) -> Tenant:
    """An account with one warehouse, one template, a provider with two profiles, and a key."""
    return make_tenant(database, client, "acme")


@pytest.fixture
def other_tenant(database: Database, client: TestClient) -> Tenant:
    return make_tenant(database, client, "globex")


@pytest.fixture
def inbox() -> Inbox:
    """What the test's SMTP server received."""
    return Inbox()


@pytest.fixture
def smtp_port(inbox: Inbox) -> Iterator[int]:
    """A plain SMTP server of the test's own, delivering to `inbox`."""
    with smtp_server(inbox) as port:
        yield port


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, empty, on a free port."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
