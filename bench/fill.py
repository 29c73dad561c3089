"""A throwaway database for one benchmark run, filled in bulk with SQL: an account with its
reference data, an API key, a portal user, and 1,000,100 fulfilment customers."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from fulfilment import migrate
from fulfilment.accounts import service as accounts
from fulfilment.clock import utcnow
from fulfilment.db import Connection, Database
from fulfilment.passwords import hash_password_sync
from fulfilment.reference import service as reference
from fulfilment.settings import Settings
from fulfilment.tables import accounts as accounts_table
from fulfilment.tables import fulfilment_customers as customers

SUBDOMAIN = "bench"
# A second, small tenant beside the big one: the fairness case measures its reads while
# the big one searches.
SECOND_SUBDOMAIN = "benchsmall"
SECOND_CUSTOMERS = 1_000
TIMEZONE = "Europe/Amsterdam"
LOGIN_USERNAME = "bench-login"
LOGIN_PASSWORD = "bench-login-password"  # noqa: S105 - a throwaway database's test user
# One customer in RARE_EVERY carries RARE_WORD in its name, one in COMMON_EVERY (1%)
# COMMON_WORD, and every one "Customer".
RARE_EVERY = 200_000
RARE_WORD = "Zyxwvuts"
COMMON_EVERY = 100
COMMON_WORD = "Wombatix"


def customer_name(n: int) -> str:
    """The name the fill gives the customer at position `n` (as its SQL does)."""
    if n % RARE_EVERY == RARE_EVERY // 2:
        return f"Customer {n} {RARE_WORD}"
    if n % COMMON_EVERY == COMMON_EVERY // 2:
        return f"Customer {n} {COMMON_WORD}"
    return f"Customer {n}"


# (what a search case is called, the term): 3 and 8 letters, rare, 1% and nearly all.
SEARCH_TERMS = [
    ("rare, 3 letters", RARE_WORD[:3].lower()),
    ("rare, 8 letters", RARE_WORD.lower()),
    ("1%, 3 letters", COMMON_WORD[:3].lower()),
    ("1%, 8 letters", COMMON_WORD.lower()),
    ("all, 3 letters", "cus"),
    ("all, 8 letters", "customer"),
]


@dataclass(frozen=True, slots=True)
class Tenant:
    """An account, its API key and the range of its customers' ids."""

    account_id: int
    api_key: str
    customers: int
    first_id: int
    last_id: int


@dataclass(frozen=True, slots=True)
class Filled:
    """What the load needs to know about the database it runs against: the big tenant's
    account, key and customers, and the small one beside it."""

    url: str
    account_id: int
    api_key: str
    customers: int
    first_id: int
    last_id: int
    seconds: float
    second: Tenant


@contextlib.contextmanager
def throwaway_database(backend: str, postgres_server: str) -> Iterator[str]:
    """An empty database URL for `backend`, removed afterwards."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="fulfilment-bench-"))
        try:
            yield f"sqlite:///{folder / 'bench.sqlite3'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    server = sa.make_url(postgres_server).set(drivername="postgresql+psycopg")
    name = f"fulfilment_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _bulk_insert(count: int, account_id: int) -> sa.Insert:
    """One INSERT ... SELECT over a counter: every column the API writes, as it writes it."""
    counter = sa.select(sa.literal(1, sa.BigInteger).label("n")).cte("counter", recursive=True)
    counter = counter.union_all(sa.select(counter.c.n + 1).where(counter.c.n < count))
    number = sa.cast(counter.c.n, sa.String)
    # Words whose share of the customers the search cases rely on (see SEARCH_TERMS).
    tag = sa.case(
        (counter.c.n % RARE_EVERY == RARE_EVERY // 2, sa.literal(" " + RARE_WORD)),
        (counter.c.n % COMMON_EVERY == COMMON_EVERY // 2, sa.literal(" " + COMMON_WORD)),
        else_=sa.literal(""),
    )
    name = sa.literal("Customer ") + number + tag
    email = sa.literal("customer") + number + sa.literal("@example.com")
    now = utcnow()
    columns = {
        "account_id": sa.literal(account_id, sa.BigInteger),
        "position": counter.c.n,
        "name": name,
        "can_login": sa.false(),
        "username": sa.null(),
        "username_key": sa.null(),
        "password_hash": sa.null(),
        "emailaddress": email,
        "language": sa.literal("nl"),
        "idtemplate": sa.null(),
        "preferred_idwarehouse": sa.null(),
        "allowed_shipping_profiles": sa.literal("[]"),
        # casefold() of each, as the service writes them (the text is ASCII).
        "search_name": sa.func.lower(name),
        "search_username": sa.literal(""),
        "search_email": sa.func.lower(email),
        "last_login_at": sa.null(),
        "credentials_version": sa.literal(0),
        "created_at": sa.literal(now, sa.DateTime),
        "updated_at": sa.literal(now, sa.DateTime),
    }
    select = sa.select(*(value.label(key) for key, value in columns.items()))
    return sa.insert(customers).from_select(list(columns), select)


def _login_user(account_id: int) -> sa.Update:
    """The first customer becomes a portal user, for the login case."""
    return (
        sa.update(customers)
        .where(customers.c.account_id == account_id, customers.c.position == 1)
        .values(
            can_login=True,
            username=LOGIN_USERNAME,
            username_key=LOGIN_USERNAME,
            password_hash=hash_password_sync(LOGIN_PASSWORD),
            search_username=LOGIN_USERNAME,
        )
    )


def _tenant(database: Database, name: str, subdomain: str, count: int, login: bool) -> Tenant:
    """An account with its reference data, an API key and `count` customers."""

    async def setup(connection: Connection) -> tuple[int, str]:
        account = await accounts.create_account(connection, name, subdomain, TIMEZONE)
        await reference.create_warehouse(connection, account.id, "Main")
        await reference.create_template(connection, account.id, "Default", default=True)
        await reference.create_shipping_provider(
            connection, account.id, "PostNL", "PostNL", ["Standard"]
        )
        _, key = await accounts.create_api_key(connection, account, "bench")
        return account.id, key

    account_id, api_key = database.write_sync(setup)
    with database.engine.begin() as connection:
        connection.execute(_bulk_insert(count, account_id))
        if login:
            connection.execute(_login_user(account_id))
        connection.execute(
            sa.update(accounts_table)
            .where(accounts_table.c.id == account_id)
            .values(customer_count=count)
        )
        first_id, last_id = connection.execute(
            sa.select(
                sa.func.min(customers.c.idfulfilment_customer),
                sa.func.max(customers.c.idfulfilment_customer),
            ).where(customers.c.account_id == account_id)
        ).one()
    return Tenant(account_id, api_key, count, first_id, last_id)


def fill(url: str, count: int, second_count: int = SECOND_CUSTOMERS) -> Filled:
    """Migrate `url`, then create the account, its key and `count` customers, and a second
    account with `second_count`."""
    started = time.perf_counter()
    database = Database(Settings(database_url=url))
    try:
        migrate.upgrade(database)
        big = _tenant(database, "Bench BV", SUBDOMAIN, count, login=True)
        small = _tenant(database, "Small BV", SECOND_SUBDOMAIN, second_count, login=False)
        # Fresh statistics, as a database that grew to this size over time would have.
        with database.connect() as driver:
            driver.raw.execute("ANALYZE" if database.is_sqlite else "VACUUM ANALYZE")
    finally:
        database.close()
    return Filled(
        url,
        big.account_id,
        big.api_key,
        count,
        big.first_id,
        big.last_id,
        time.perf_counter() - started,
        small,
    )
