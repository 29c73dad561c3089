"""Soak test (by hand, not in CI): mixed traffic against a real server on PostgreSQL and
Redis while, in turns, Redis is stopped and restarted, the server's PostgreSQL backends are
killed, Redis is paused (SIGSTOP) and the customers table is locked by another session. It
passes when no acknowledged write is lost, every error answer is a 503 wire error given
while a dependency was down (or within --grace seconds of its return), no request hangs,
and the service recovers by itself.

    .venv/bin/python bench/soak.py --duration 600

It uses the PostgreSQL server of the tests (FULFILMENT_TEST_POSTGRES_URL) with a database
of its own, and the Redis on 127.0.0.1:6379, which it shuts down for --redis-outage
seconds at a time and restarts with scripts/services.sh, or pauses for --pause seconds;
both are left running at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import new_account, start_server  # noqa: E402

CUSTOMERS = "/api/v1/fulfilment/customers"
REDIS_CLI = ["redis-cli", "-h", "127.0.0.1", "-p", "6379"]
TIMEOUT = 15.0  # an answer slower than this counts as a hang


@dataclass
class Outcome:
    started: float
    finished: float
    operation: str
    status: int | None  # None: no answer (connection error or timeout)
    wire_error: bool = False
    failure: str = ""


@dataclass
class Owned:
    """A customer one client created: what it last heard was stored, and what it sent
    since without hearing back (any of which may have been stored)."""

    acknowledged: str
    unanswered: list[str] = field(default_factory=list)


@dataclass
class Fault:
    kind: str
    started: float
    ended: float


class Traffic(threading.Thread):
    """One client: creates customers, updates its own, reads them, lists and searches."""

    def __init__(self, number: int, url: str, key: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.number = number
        self.client = httpx.Client(base_url=url, auth=(key, "X"), timeout=TIMEOUT)
        self.stop = stop
        self.outcomes: list[Outcome] = []
        self.owned: dict[int, Owned] = {}
        self.unanswered_creates: list[str] = []
        self.random = random.Random(number)

    def send(self, operation: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        started = time.monotonic()
        try:
            answer = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            self.outcomes.append(
                Outcome(started, time.monotonic(), operation, None, failure=repr(error))
            )
            return None
        wire_error = False
        if answer.status_code >= 400:
            try:
                body = answer.json()
                wire_error = set(body) == {"error", "error_code", "error_message"}
            except ValueError:
                pass
        self.outcomes.append(
            Outcome(started, time.monotonic(), operation, answer.status_code, wire_error)
        )
        return answer

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            choice = self.random.random()
            if choice < 0.3 or not self.owned:
                name = f"Soak {self.number}-{n}"
                body = {"name": name, "username": f"soak-{self.number}-{n}", "language": "en"}
                answer = self.send("create", "POST", CUSTOMERS, json=body)
                if answer is not None and answer.status_code == 200:
                    self.owned[answer.json()["idfulfilment_customer"]] = Owned(name)
                elif answer is None or answer.status_code >= 500:
                    self.unanswered_creates.append(name)
            elif choice < 0.6:
                customer = self.random.choice(list(self.owned))
                name = f"Soak {self.number}-{customer} v{n}"
                answer = self.send("update", "PUT", f"{CUSTOMERS}/{customer}", json={"name": name})
                if answer is not None and answer.status_code == 200:
                    self.owned[customer] = Owned(name)
                elif answer is None or answer.status_code >= 500:
                    self.owned[customer].unanswered.append(name)
            elif choice < 0.8:
                customer = self.random.choice(list(self.owned))
                self.send("get", "GET", f"{CUSTOMERS}/{customer}")
            elif choice < 0.9:
                params = {"offset": str(self.random.choice([0, 100]))}
                if self.random.random() < 0.5:
                    params = {"search": f"soak {self.number}-"}
                self.send("list", "GET", CUSTOMERS, params=params)
            else:
                self.send("reference", "GET", "/api/v1/warehouses")
        self.client.close()


def redis_up() -> bool:
    ping = subprocess.run([*REDIS_CLI, "ping"], capture_output=True, text=True, check=False)
    return ping.stdout.strip() == "PONG"


def restore_services() -> None:
    subprocess.run([str(ROOT / "scripts" / "services.sh")], check=True)


def redis_outage(seconds: float) -> Fault:
    started = time.monotonic()
    subprocess.run([*REDIS_CLI, "shutdown", "nosave"], capture_output=True, check=False)
    try:
        time.sleep(seconds)
    finally:
        restore_services()
    return Fault("redis stopped", started, time.monotonic())


def redis_pause(seconds: float) -> Fault:
    """Redis stops answering without closing a connection: SIGSTOP, then SIGCONT."""
    info = subprocess.run([*REDIS_CLI, "info", "server"], capture_output=True, text=True)
    pid = int(next(line for line in info.stdout.splitlines() if line.startswith("process_id:"))
              .split(":", 1)[1])  # fmt: skip
    started = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)
    return Fault("redis paused", started, time.monotonic())


def lock_customers(admin: sa.Engine, seconds: float) -> Fault:
    """Another session holds the customers table's strongest lock: reads and writes wait."""
    started = time.monotonic()
    with admin.connect() as connection, connection.begin():
        connection.exec_driver_sql("LOCK TABLE fulfilment_customers IN ACCESS EXCLUSIVE MODE")
        time.sleep(seconds)
    return Fault("customers table locked", started, time.monotonic())


def kill_backends(admin: sa.Engine, database: str) -> tuple[Fault, int]:
    started = time.monotonic()
    with admin.connect() as connection:
        killed = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        ).scalar_one()
    return Fault("postgresql backends killed", started, time.monotonic()), int(killed)


def inject_faults(
    args: argparse.Namespace, admin: sa.Engine, database: str, stop: threading.Event,
    faults: list[Fault], begun: float,
) -> None:  # fmt: skip
    """Take turns with the four faults every --fault-every seconds, none in the last
    stretch."""
    quiet_from = begun + args.duration - args.quiet
    next_at = begun + args.fault_every
    kind = 0
    while not stop.wait(max(0.0, next_at - time.monotonic())):
        if time.monotonic() >= quiet_from:
            return
        if kind % 4 == 0:
            fault = redis_outage(args.redis_outage)
            print(
                f"  {fault.started - begun:6.1f}s redis stopped for {args.redis_outage}s,"
                f" back after {fault.ended - fault.started:.1f}s"
            )
        elif kind % 4 == 1:
            fault, killed = kill_backends(admin, database)
            print(f"  {fault.started - begun:6.1f}s killed {killed} postgresql backends")
        elif kind % 4 == 2:
            fault = redis_pause(args.pause)
            print(f"  {fault.started - begun:6.1f}s redis paused for {args.pause}s")
        else:
            # A transaction of its own: the admin engine's connections autocommit.
            locker = sa.create_engine(admin.engine.url.set(database=database))
            try:
                fault = lock_customers(locker, args.pause)
            finally:
                locker.dispose()
            print(f"  {fault.started - begun:6.1f}s customers table locked for {args.pause}s")
        faults.append(fault)
        kind += 1
        next_at += args.fault_every


def during_fault(outcome: Outcome, faults: list[Fault], grace: float) -> bool:
    return any(outcome.finished >= f.started and outcome.started <= f.ended + grace for f in faults)


def verify_writes(url: str, key: str, clients: list[Traffic]) -> tuple[int, list[str]]:
    """Every acknowledged create and update is stored (or overtaken by a later attempt)."""
    lost: list[str] = []
    checked = 0
    with httpx.Client(base_url=url, auth=(key, "X"), timeout=TIMEOUT) as client:
        for traffic in clients:
            for customer, owned in traffic.owned.items():
                checked += 1
                answer = client.get(f"{CUSTOMERS}/{customer}")
                allowed = {owned.acknowledged, *owned.unanswered}
                if answer.status_code != 200 or answer.json()["name"] not in allowed:
                    lost.append(f"customer {customer}: {answer.status_code} {answer.text[:120]}")
    return checked, lost


def recovery_times(outcomes: list[Outcome], faults: list[Fault]) -> list[float]:
    """Seconds from the end of each fault to the first request answered 2xx after it."""
    times = []
    for fault in faults:
        after = [o.finished for o in outcomes if o.started >= fault.ended and o.status == 200]
        times.append(min(after) - fault.ended if after else float("inf"))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--fault-every", type=float, default=30, help="seconds between faults")
    parser.add_argument("--redis-outage", type=float, default=3, help="seconds Redis is down")
    parser.add_argument(
        "--pause", type=float, default=5, help="seconds Redis is paused and a table is locked"
    )
    parser.add_argument("--quiet", type=float, default=20, help="fault-free seconds at the end")
    parser.add_argument("--grace", type=float, default=5, help="seconds to recover per fault")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "FULFILMENT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()

    server_url = sa.make_url(args.postgres).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    database = f"fulfilment_soak_{uuid.uuid4().hex[:10]}"
    workdir = Path(tempfile.mkdtemp(prefix="fulfilment-soak-"))
    log = workdir / "server.log"
    server = None
    stop = threading.Event()
    faults: list[Fault] = []
    clients: list[Traffic] = []
    try:
        restore_services()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        env = {
            "FULFILMENT_DATABASE_URL": server_url.set(database=database).render_as_string(
                hide_password=False
            ),
            "FULFILMENT_REDIS_URL": "redis://127.0.0.1:6379/0",
            "FULFILMENT_RATE_LIMIT": "1000000/minute",
            "FULFILMENT_ACCESS_LOG": "false",
        }
        key = new_account(env, subdomain=f"soak{uuid.uuid4().hex[:8]}")
        server = start_server(env, workers=args.workers, log=log)
        print(f"soak: {args.duration:.0f}s, {args.clients} clients, {args.workers} workers")
        begun = time.monotonic()
        clients = [Traffic(n, server.url, key, stop) for n in range(args.clients)]
        for traffic in clients:
            traffic.start()
        injector = threading.Thread(
            target=inject_faults, args=(args, admin, database, stop, faults, begun), daemon=True
        )
        injector.start()
        stop.wait(args.duration)
        stop.set()
        injector.join()
        for traffic in clients:
            traffic.join(timeout=TIMEOUT + 5)
        elapsed = time.monotonic() - begun

        outcomes = sorted((o for t in clients for o in t.outcomes), key=lambda o: o.started)
        by_status = Counter((o.operation, o.status) for o in outcomes)
        unexplained = [
            o for o in outcomes
            if o.status is None or o.status >= 500 or o.status not in (200, 503)
            if not (o.status == 503 and o.wire_error and during_fault(o, faults, args.grace))
        ]  # fmt: skip
        hangs = [o for o in outcomes if o.finished - o.started >= TIMEOUT]
        latencies = [o.finished - o.started for o in outcomes if o.status == 200]
        checked, lost = verify_writes(server.url, key, clients)
        ready_answer = httpx.get(f"{server.url}/ready", timeout=TIMEOUT)
        ready = ready_answer.status_code
        recoveries = recovery_times(outcomes, faults)

        print(f"\n{len(outcomes)} requests in {elapsed:.0f}s ({len(outcomes) / elapsed:.0f}/s)")
        for (operation, status), count in sorted(by_status.items(), key=str):
            print(f"  {operation:9} {status}: {count}")
        print(f"faults: {len(faults)}; 503 answers: {sum(o.status == 503 for o in outcomes)}")
        for fault, recovery in zip(faults, recoveries, strict=True):
            refused = sum(
                o.status == 503 and during_fault(o, [fault], args.grace) for o in outcomes
            )
            print(
                f"  {fault.started - begun:6.1f}s {fault.kind}: {fault.ended - fault.started:.1f}s,"
                f" {refused} answers 503, served again {recovery:.2f}s after"
            )
        if latencies:
            quantiles = statistics.quantiles(latencies, n=100)
            print(
                f"latency of 200s: median {quantiles[49] * 1000:.1f} ms,"
                f" p99 {quantiles[98] * 1000:.1f} ms, max {max(latencies) * 1000:.0f} ms"
            )
        acknowledged = sum(len(t.owned) for t in clients)
        print(f"acknowledged customers checked: {checked} of {acknowledged}; lost: {len(lost)}")
        print(f"errors outside a fault window: {len(unexplained)}; hangs: {len(hangs)}")
        print(f"/ready at the end: {ready} {ready_answer.text}")
        text = log.read_text()
        tracebacks = text.count("Traceback")
        print(f"tracebacks in the server log: {tracebacks} ({log})")
        for outcome in unexplained[:10]:
            at = outcome.started - begun
            print(
                f"  unexplained at {at:.2f}s:"
                f" {outcome.operation} {outcome.status} {outcome.failure}"
            )
        for line in lost[:10]:
            print(f"  lost: {line}")
        ok = not lost and not unexplained and not hangs and ready == 200 and not tracebacks
        ok = ok and max(recoveries, default=0) <= args.grace
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        stop.set()
        if not redis_up():
            restore_services()
        if server is not None:
            server.stop()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
