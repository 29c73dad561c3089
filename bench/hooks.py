"""The hooks case: POST and PUT with one active hook on each event, against the baseline;
then the rate one instance delivers a backlog at to a fast local receiver, while GET one's
latency is measured beside it: the backlog of one account, then the same backlog shared by
100 accounts with one hook each (fairness between accounts must not cost the rate)."""

from __future__ import annotations

import http.client
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import processes
from .fill import Filled
from .processes import Load

if TYPE_CHECKING:
    from .__main__ import Bench, Report, Row

# Deliveries queued before the delivery round: more than one instance sends in it.
BACKLOG = 30_000
# Accounts sharing the backlog in the many-accounts round, and its target: within 20 % of
# one account's rate.
ACCOUNTS = 100
SHARED_RATE_TARGET = 0.8
EVENTS = ("fulfilment_customers.created", "fulfilment_customers.changed")
ENV = {"FULFILMENT_HOOKS_ALLOW_PRIVATE": "true"}


@contextmanager
def receiver(logs: Path) -> Iterator[int]:
    """bench/receiver.py on the load core; yields its port."""
    port = processes.free_port()
    argv = [
        "taskset",
        "-c",
        processes.LOAD_CPU,
        *processes.python_command("-m", "bench.receiver", str(port)),
    ]
    with (logs / "receiver.log").open("ab") as errors:
        process = subprocess.Popen(
            argv,
            cwd=processes.ROOT,
            env={**os.environ, "PYTHONPATH": str(processes.ROOT)},
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
    try:
        assert process.stdout is not None
        if not process.stdout.readline().startswith(b"receiving"):
            raise RuntimeError(f"the receiver did not start (exit {process.wait()})")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def received(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/count")
        return int(connection.getresponse().read())
    finally:
        connection.close()


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(url).set(drivername=_driver(url)))


def _driver(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql+psycopg"


def add_hooks(
    url: str, account_id: int, address: str, events: tuple[str, ...] = EVENTS
) -> list[int]:
    """One active hook on each of `events` for the account, without a secret."""
    from fulfilment.tables import hooks

    now = datetime.now(UTC).replace(tzinfo=None)
    engine = _engine(url)
    with engine.begin() as connection:
        ids = [
            connection.execute(
                sa.insert(hooks)
                .values(
                    account_id=account_id,
                    name=f"bench {event}",
                    event=event,
                    address=address,
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
                .returning(hooks.c.idhook)
            ).scalar_one()
            for event in events
        ]
    engine.dispose()
    return ids


def add_accounts(url: str, count: int, address: str) -> list[tuple[int, int]]:
    """`count` more accounts, each with one active hook on `changed`: (account, hook)."""
    from fulfilment.accounts import service as accounts
    from fulfilment.db import Database
    from fulfilment.settings import Settings

    database = Database(Settings(database_url=url))

    async def create(connection: Any) -> list[int]:
        return [
            (await accounts.create_account(connection, f"Shared {n}", f"shared{n}")).id
            for n in range(count)
        ]

    try:
        ids = database.write_sync(create)
    finally:
        database.close()
    return [(account_id, add_hooks(url, account_id, address, EVENTS[1:])[0]) for account_id in ids]


def queue(url: str, account_id: int, idhook: int, count: int) -> None:
    """`count` due deliveries of one event with a customer-sized payload, for the hook."""
    from fulfilment.tables import hook_deliveries, hook_events

    data = (
        '{"idfulfilment_customer":1,"name":"Bench customer","can_login":false,'
        '"username":null,"emailaddress":"bench@example.com","language":"en",'
        '"idtemplate":null,"last_login_at":null,"allowed_shipping_profiles":[],'
        '"preferred_idwarehouse":null}'
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    event = {"account_id": account_id, "event": EVENTS[1], "data": data, "triggered_at": now}
    engine = _engine(url)
    with engine.begin() as connection:
        idevent = connection.execute(
            sa.insert(hook_events).values(event).returning(hook_events.c.idevent)
        ).scalar_one()
        row = {
            "account_id": account_id,
            "idhook": idhook,
            "idevent": idevent,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for start in range(0, count, 5000):
            connection.execute(sa.insert(hook_deliveries), [row] * min(5000, count - start))
    engine.dispose()


def pending(url: str) -> int:
    from fulfilment.tables import hook_deliveries

    engine = _engine(url)
    with engine.connect() as connection:
        left = connection.execute(
            sa.select(sa.func.count()).where(hook_deliveries.c.state == "pending")
        ).scalar_one()
    engine.dispose()
    return int(left)


def count_deliveries(url: str) -> int:
    from fulfilment.tables import hook_deliveries

    engine = _engine(url)
    with engine.connect() as connection:
        made = connection.execute(sa.select(sa.func.count()).select_from(hook_deliveries))
        count = int(made.scalar_one())
    engine.dispose()
    return count


def clear_deliveries(url: str) -> None:
    """No deliveries left over for the next round to start with."""
    from fulfilment.tables import hook_attempts, hook_deliveries, hook_events

    engine = _engine(url)
    with engine.begin() as connection:
        for table in (hook_attempts, hook_deliveries, hook_events):
            connection.execute(sa.delete(table))
    engine.dispose()


def remove_hooks(url: str) -> None:
    """Leave the database as the other cases expect it: no hooks, no deliveries."""
    from fulfilment.tables import hook_attempts, hook_deliveries, hook_events, hooks

    engine = _engine(url)
    with engine.begin() as connection:
        for table in (hook_attempts, hook_deliveries, hook_events, hooks):
            connection.execute(sa.delete(table))
    engine.dispose()


def run(bench: Bench, filled: Filled, report: Report) -> list[Row]:
    from .__main__ import CASES, Row, verdict

    options = bench.options
    rows: list[Row] = []
    with receiver(bench.logs) as port:
        address = f"http://127.0.0.1:{port}/hook"
        add_hooks(filled.url, filled.account_id, address)
        try:
            # POST and PUT, each change delivered while the load runs.
            writes = (CASES[4], CASES[3]) if bench.chosen("hooks") else ()
            for case in writes:
                row = Row(f"{case.name}, hooks on")
                request = bench.request(filled, case)
                with bench.service(filled, env=ENV) as service, bench.baseline(filled) as base:
                    bench.compare(row, service, base, request, options.connections)
                    # One more round of the service alone: do deliveries keep up with the
                    # events it makes?
                    clear_deliveries(filled.url)
                    before = received(port)
                    processes.load(service, options.seconds, options.connections, request)
                    delivered, made = received(port) - before, count_deliveries(filled.url)
                clear_deliveries(filled.url)
                row.note = f"{delivered:,} of {made:,} events delivered"
                if row.ratio is not None:
                    met = not row.failed and row.ratio >= 0.5
                    report.lines.append(
                        f"{row.name}: ratio {row.ratio:.2f} [target >= 0.5: {verdict(met)}]; "
                        f"in a round of {options.seconds:g} s it made {made:,} events and "
                        f"delivered {delivered:,}"
                    )
                rows.append(row)
            # A clean slate: what the rounds above left pending is not counted below.
            remove_hooks(filled.url)
            _, changed = add_hooks(filled.url, filled.account_id, address)
            one = deliver_beside_reads(bench, filled, report, port, [(filled.account_id, changed)])
            rows.append(one)
            clear_deliveries(filled.url)
            shared = add_accounts(filled.url, ACCOUNTS, address)
            many = deliver_beside_reads(bench, filled, report, port, shared)
            rows.append(many)
            one_rate, many_rate = one.rate, many.rate
            if one_rate and many_rate:
                met = many_rate >= SHARED_RATE_TARGET * one_rate
                report.lines.append(
                    f"hooks: {ACCOUNTS} accounts with one hook each delivered {many_rate:,.0f} "
                    f"events/s, {many_rate / one_rate:.2f} of one account's {one_rate:,.0f} "
                    f"[target >= {SHARED_RATE_TARGET}: {verdict(met)}]"
                )
        finally:
            remove_hooks(filled.url)
    return rows


def deliver_beside_reads(
    bench: Bench, filled: Filled, report: Report, port: int, hooks: list[tuple[int, int]]
) -> Row:
    """A backlog delivered by one instance while GET one runs beside it (as in the fairness
    case: a few connections, each pausing before a request), shared by the (account, hook)
    pairs of `hooks`."""
    from .__main__ import CASES, Row, failures, verdict

    options = bench.options
    accounts = f"{len(hooks)} accounts" if len(hooks) > 1 else "one account"
    row = Row(f"delivery beside GET one, {accounts}")
    for account_id, idhook in hooks:
        queue(filled.url, account_id, idhook, BACKLOG // len(hooks))
    reads = {
        **bench.request(filled, CASES[0]),
        "BENCH_DELAY_MS": str(options.fairness_delay_ms),
    }
    with bench.service(filled, env=ENV) as service:
        # The worker starts on its own; measure once it is under way.
        time.sleep(options.warmup)
        start_count, started = received(port), time.monotonic()
        load: Load = processes.load(
            service, options.seconds * options.rounds, options.fairness_connections, reads
        )
        delivered = received(port) - start_count
        elapsed = time.monotonic() - started
        row.service, row.service_rss = load, service.peak_rss_mb()
    left = pending(filled.url)
    rate = delivered / elapsed
    ran_dry = " (the backlog ran out: the rate is a floor)" if left == 0 else ""
    row.note = f"{rate:,.0f} deliveries/s"
    row.rate = rate
    report.lines.append(
        f"hooks ({accounts}): one instance delivered {rate:,.0f} events/s to a local "
        f"receiver{ran_dry} "
        f"[target >= 300: {verdict(rate >= 300)}]; beside it GET one ("
        f"{options.fairness_connections} connections, each every {options.fairness_delay_ms} "
        f"ms) p99 {load.p99_ms:.1f} ms{failures(row)} "
        f"[target < 50 ms: {verdict(not row.failed and load.p99_ms < 50)}]"
    )
    return row
