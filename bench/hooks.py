"""The hooks case: POST and PUT with one active hook on each event, against the baseline;
then the rate one instance delivers a backlog at to a fast local receiver, while GET one's
latency is measured beside it."""

from __future__ import annotations

import http.client
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from . import processes
from .fill import Filled
from .processes import Load

if TYPE_CHECKING:
    from .__main__ import Bench, Report, Row

# Deliveries queued before the delivery round: more than one instance sends in it.
BACKLOG = 30_000
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


def add_hooks(url: str, account_id: int, address: str) -> list[int]:
    """One active hook on each event for the account, without a secret."""
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
            for event in EVENTS
        ]
    engine.dispose()
    return ids


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
            for case in (CASES[4], CASES[3]):
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
            rows.append(deliver_beside_reads(bench, filled, report, port, changed))
        finally:
            remove_hooks(filled.url)
    return rows


def deliver_beside_reads(
    bench: Bench, filled: Filled, report: Report, port: int, idhook: int
) -> Row:
    """A backlog delivered by one instance while GET one runs beside it (as in the fairness
    case: a few connections, each pausing before a request)."""
    from .__main__ import CASES, Row, failures, verdict

    options = bench.options
    row = Row("delivery beside GET one")
    queue(filled.url, filled.account_id, idhook, BACKLOG)
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
    report.lines.append(
        f"hooks: one instance delivered {rate:,.0f} events/s to a local receiver{ran_dry} "
        f"[target >= 300: {verdict(rate >= 300)}]; beside it GET one ("
        f"{options.fairness_connections} connections, each every {options.fairness_delay_ms} "
        f"ms) p99 {load.p99_ms:.1f} ms{failures(row)} "
        f"[target < 50 ms: {verdict(not row.failed and load.p99_ms < 50)}]"
    )
    return row
