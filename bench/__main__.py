"""`python -m bench`: fill a throwaway database, run every case against the service and the
baseline, one server core and one load core, and print the table with the targets."""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
import sqlalchemy as sa

from . import admin, ceiling, hooks, logins, processes, profile
from .fill import (
    COMMON_WORD,
    LOGIN_USERNAME,
    SEARCH_TERMS,
    Filled,
    Tenant,
    customer_name,
    fill,
    throwaway_database,
)
from .processes import Load, Server

API = "/api/v1/fulfilment/customers"
OFFSET_FAR = 1_000_000
PAGE_SIZE = 100
# The far-database case: this much delay each way between the server and PostgreSQL.
REMOTE_DELAY_MS = 1.0
REMOTE_CONNECTIONS = 64
# The fairness case: tenant A searches for this term on 8 connections while tenant B reads.
FAIRNESS_TERM = COMMON_WORD[:3].lower()
FAIRNESS_LOOPS = 8


@dataclass(frozen=True, slots=True)
class Case:
    """One request shape, sent by wrk to the service and to the baseline alike."""

    name: str
    method: str
    path: str
    body: dict[str, object] | None = None


CASES = [
    Case("GET one", "GET", API + "/{id}"),
    Case("GET page, offset 0", "GET", API + "?offset=0"),
    Case(f"GET page, offset {OFFSET_FAR:,}", "GET", API + f"?offset={OFFSET_FAR}"),
    Case("PUT one field", "PUT", API + "/{id}", {"name": "Renamed customer"}),
    Case(
        "POST create",
        "POST",
        API,
        {"name": "Bench customer", "emailaddress": "bench@example.com", "language": "en"},
    ),
]


@dataclass
class Row:
    name: str
    service: Load | None = None
    service_rss: float = 0.0
    baseline: Load | None = None
    baseline_rss: float = 0.0
    note: str = ""
    # Deliveries a second, in the rounds that measure them.
    rate: float = 0.0

    @property
    def failed(self) -> int:
        """Answers of another status than expected, or none at all, on either side: a case
        with any is judged MISSED whatever its numbers."""
        return sum(load.failed for load in (self.service, self.baseline) if load is not None)

    @property
    def ratio(self) -> float | None:
        if self.service is None or self.baseline is None or not self.baseline.rate:
            return None
        return self.service.rate / self.baseline.rate

    @property
    def cpu_ratio(self) -> float | None:
        """Baseline CPU per request over the service's: the ratio without the noise."""
        if self.service is None or self.baseline is None or not self.service.cpu_us:
            return None
        return self.baseline.cpu_us / self.service.cpu_us


@dataclass
class Report:
    backend: str
    filled: Filled
    load_before: str
    rows: list[Row] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    load_after: str = ""


class Bench:
    def __init__(self, options: argparse.Namespace, logs: Path) -> None:
        self.options = options
        self.logs = logs
        self.backend = ""
        # The --profile summaries of the backend being run.
        self.profiles: list[str] = []

    def request(self, filled: Filled, case: Case, tenant: Tenant | None = None) -> dict[str, str]:
        """wrk.lua's variables for `case`, as the big tenant or as `tenant`."""
        if tenant is None:
            tenant = Tenant(
                filled.account_id,
                filled.api_key,
                filled.customers,
                filled.first_id,
                filled.last_id,
            )
        request = {
            "BENCH_METHOD": case.method,
            "BENCH_PATH": case.path,
            "BENCH_AUTHORIZATION": authorization(tenant.api_key),
            "BENCH_ID_MIN": str(tenant.first_id),
            "BENCH_ID_MAX": str(tenant.last_id),
            "BENCH_PAGE_END": str(tenant.customers - tenant.customers % 100),
        }
        if case.body is not None:
            request["BENCH_BODY"] = json.dumps(case.body)
        return request

    @contextmanager
    def service(
        self, filled: Filled, url: str | None = None, env: dict[str, str] | None = None
    ) -> Iterator[Server]:
        """The service on the filled database, or on `url` (the same database, by another
        way); `env`: more settings."""
        env = {
            **(env or {}),
            "FULFILMENT_DATABASE_URL": url or filled.url,
            # Needed on PostgreSQL; the benchmark stores no secret.
            "FULFILMENT_ENCRYPTION_KEY": "benchmark-encryption-key-0123456789",
            "FULFILMENT_POOL_SIZE": str(self.options.pool_size),
            "FULFILMENT_RATE_LIMIT": self.options.rate_limit,
            "FULFILMENT_RATE_LIMIT_STRATEGY": self.options.rate_limit_strategy,
            # The logins case logs one customer in from one address, over and over: every
            # attempt counts against the login throttle, so it is off here.
            "FULFILMENT_PORTAL_LOGIN_LIMIT_PER_USERNAME_AND_ADDRESS": "off",
            "FULFILMENT_PORTAL_LOGIN_LIMIT_PER_USERNAME": "off",
            "FULFILMENT_PORTAL_LOGIN_LIMIT_PER_ADDRESS": "off",
        }
        command = processes.python_command(
            "-m", "fulfilment.cli", "serve", "--port", "{port}", "--workers", "1"
        )
        server = processes.start_server("service", command, env, self.logs)
        try:
            yield server
        finally:
            server.stop()

    @contextmanager
    def baseline(self, filled: Filled) -> Iterator[Server]:
        env = {"FULFILMENT_DATABASE_URL": filled.url, "BENCH_ACCOUNT_ID": str(filled.account_id)}
        command = processes.python_command("-m", "bench.baseline", "127.0.0.1", "{port}")
        server = processes.start_server("baseline", command, env, self.logs)
        try:
            yield server
        finally:
            server.stop()

    @contextmanager
    def async_baseline(self, filled: Filled, url: str) -> Iterator[Server]:
        env = {
            "FULFILMENT_DATABASE_URL": url,
            "FULFILMENT_POOL_SIZE": str(self.options.pool_size),
            "BENCH_ACCOUNT_ID": str(filled.account_id),
        }
        command = processes.python_command("-m", "bench.async_baseline", "127.0.0.1", "{port}")
        server = processes.start_server("async-baseline", command, env, self.logs)
        try:
            yield server
        finally:
            server.stop()

    def run_case(self, filled: Filled, case: Case) -> Row:
        with self.service(filled) as service, self.baseline(filled) as baseline:
            return self.compare(
                Row(case.name),
                service,
                baseline,
                self.request(filled, case),
                self.options.connections,
            )

    def compare(
        self, row: Row, service: Server, baseline: Server, request: dict[str, str], connections: int
    ) -> Row:
        """Both servers up, warmed, then measured in turns; each keeps its best round, as
        other work on the machine can only slow a round down."""
        options = self.options
        for server in (service, baseline):
            processes.load(server, options.warmup, connections, request)
        for _ in range(options.rounds):
            ours = processes.load(service, options.seconds, connections, request)
            theirs = processes.load(baseline, options.seconds, connections, request)
            if row.service is None or ours.rate > row.service.rate:
                row.service = ours
            if row.baseline is None or theirs.rate > row.baseline.rate:
                row.baseline = theirs
        row.service_rss, row.baseline_rss = service.peak_rss_mb(), baseline.peak_rss_mb()
        if options.profile is not None:
            self.profile(row.name, service, request, connections)
        return row

    def profile(self, name: str, server: Server, request: dict[str, str], connections: int) -> None:
        """One more round of the load, unmeasured, with the worker sampled (--profile)."""
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.backend} {name}".lower()).strip("-")
        path = self.options.profile / f"{slug}.txt"
        sampling = profile.record(server, self.options.seconds, path)
        processes.load(server, self.options.seconds, connections, request)
        sampling.wait()
        self.profiles += profile.summary(path)

    def run_remote(self, filled: Filled, report: Report) -> Row:
        """GET one with PostgreSQL a round trip of 2 x REMOTE_DELAY_MS away (a proxy in a
        process of its own, on the load core), against the async-driver baseline behind the
        same proxy with a pool of the same size."""
        row = Row(f"GET one, PG {REMOTE_DELAY_MS:g} ms away")
        with delay_proxy(filled.url, REMOTE_DELAY_MS, self.logs) as far_url:
            direct, far = round_trip_ms(filled.url), round_trip_ms(far_url)
            report.lines.append(
                f"remote: SELECT 1 round trip, median of 50: {far:.2f} ms through the proxy "
                f"({REMOTE_DELAY_MS:g} ms each way), {direct:.2f} ms direct; both servers "
                f"with a pool of {self.options.pool_size}, {REMOTE_CONNECTIONS} connections"
            )
            request = self.request(filled, CASES[0])
            with (
                self.service(filled, far_url) as service,
                self.async_baseline(filled, far_url) as baseline,
            ):
                self.compare(row, service, baseline, request, REMOTE_CONNECTIONS)
        return row

    def run_search(self, filled: Filled, report: Report) -> list[Row]:
        """Each search term's latency on a few connections, once its first page is checked
        against the customers the fill made. Best round, as for the rates."""
        options = self.options
        rows: list[Row] = []
        with self.service(filled) as service:
            for label, term in SEARCH_TERMS:
                row = Row(f"search {label} {term!r}")
                case = Case(row.name, "GET", f"{API}?search={quote(term)}")
                request = self.request(filled, case)
                status, page = get_json(service, case.path, filled.api_key)
                expected = expected_search(filled.customers, term)
                names = [c.get("name") for c in page] if isinstance(page, list) else None
                right = status == 200 and names == expected
                row.note = f"{len(expected)} on page 1, " + ("right" if right else "WRONG")
                processes.load(service, options.warmup, options.search_connections, request)
                for _ in range(options.rounds):
                    load = processes.load(
                        service, options.seconds, options.search_connections, request
                    )
                    if row.service is None or load.p99_ms < row.service.p99_ms:
                        row.service = load
                assert row.service is not None
                p50, p99 = row.service.p50_ms, row.service.p99_ms
                honest = right and not row.failed
                report.lines.append(
                    f"search {label} {term!r}: first page "
                    f"{'as expected' if right else f'WRONG (status {status})'}"
                    f"{failures(row)}; p50 {p50:.1f} ms "
                    f"[target <= 20 ms: {verdict(honest and p50 <= 20)}], p99 {p99:.1f} ms "
                    f"[target <= 50 ms: {verdict(honest and p99 <= 50)}]"
                )
                rows.append(row)
            rss = service.peak_rss_mb()
        for row in rows:
            row.service_rss = rss
        return rows

    def run_fairness(self, filled: Filled, report: Report) -> Row:
        """Tenant B's GET one while tenant A runs FAIRNESS_LOOPS search loops: B's p99 of
        the worst round (as for the logins' reader), and alone for comparison."""
        options = self.options
        small = filled.second
        search = Case("search", "GET", f"{API}?search={FAIRNESS_TERM}")
        a_request = self.request(filled, search)
        b_request = {
            **self.request(filled, CASES[0], small),
            "BENCH_DELAY_MS": str(options.fairness_delay_ms),
        }
        row = Row("fairness: B's GET one")
        b_connections = options.fairness_connections
        with self.service(filled) as service:
            processes.load(service, options.warmup, b_connections, b_request)
            alone = processes.load(service, options.seconds, b_connections, b_request)
            worst_a: Load | None = None
            for _ in range(options.rounds):
                a_run = processes.run_wrk(
                    service.port, options.seconds + 1, FAIRNESS_LOOPS, a_request
                )
                time.sleep(0.5)  # A's loops under way first
                b = processes.load(service, options.seconds, b_connections, b_request)
                a = processes.wrk_result(a_run)
                if row.service is None or b.p99_ms > row.service.p99_ms:
                    row.service = b
                if worst_a is None or a.rate < worst_a.rate:
                    worst_a = a
            row.service_rss = service.peak_rss_mb()
        assert row.service is not None
        assert worst_a is not None
        failed = row.service.failed + worst_a.failed
        row.note = f"A: {worst_a.rate:,.0f} searches/s" + (
            f" !{worst_a.failed}" if worst_a.failed else ""
        )
        p99 = row.service.p99_ms
        report.lines.append(
            f"fairness: tenant B's GET one ({b_connections} connections, each every "
            f"{options.fairness_delay_ms} ms) beside tenant A's {FAIRNESS_LOOPS} search loops "
            f"({FAIRNESS_TERM!r}, {worst_a.rate:,.0f}/s): p99 {p99:.1f} ms, p50 "
            f"{row.service.p50_ms:.1f} ms (alone: p99 {alone.p99_ms:.1f} ms)"
            f"{f', {failed:,} failed' if failed else ''} "
            f"[target < 50 ms: {verdict(not failed and p99 < 50)}]"
        )
        return row

    def run_memory(self, filled: Filled, report: Report) -> Row:
        """GET one and a walk through every page, alternately, in chunks: RSS after each."""
        request = self.request(filled, Case("memory", "GET", API + "/{id}"))
        request["BENCH_ALTERNATE"] = API + "?offset={offset}"
        row = Row("memory: GET one + list all")
        trend: list[tuple[int, float]] = []
        total = 0
        failed = 0
        deadline = time.monotonic() + self.options.memory_seconds
        with self.service(filled) as server:
            while total < self.options.memory_requests and time.monotonic() < deadline:
                chunk = processes.load(server, 5, self.options.connections, request)
                total += chunk.requests
                failed += chunk.failed
                trend.append((total, server.rss_mb()))
                row.service = chunk
            row.service_rss = server.peak_rss_mb()
        middle = trend[len(trend) // 2]
        growth = (trend[-1][1] - middle[1]) / max(1, trend[-1][0] - middle[0]) * 100_000
        step = max(1, len(trend) // 6)
        shown = [*trend[step - 1 :: step][:-1], trend[-1]] if len(trend) > 6 else trend
        points = ", ".join(f"{count // 1000}k: {rss:.0f}" for count, rss in shown)
        flat = not failed and growth <= self.options.memory_growth
        report.lines.append(
            f"memory: {total:,} requests ({failed} failed), worker RSS MB after "
            f"{points}; peak {row.service_rss:.0f} MB; second half "
            f"{growth:+.2f} MB per 100k requests "
            f"[target <= {self.options.memory_growth:+g} MB: {verdict(flat)}]"
        )
        row.note = f"{total:,} requests"
        return row

    def run_logins(self, filled: Filled, report: Report) -> Row:
        row = Row("logins")
        get_one = self.request(filled, CASES[0])
        with self.service(filled) as server:
            form = logins.login_form(server)
            if form is None:
                row.note = f"not available: no portal route {logins.LOGIN_PATH}"
                report.lines.append(f"logins: {row.note} on this build")
                return row
            result = logins.measure_rounds(
                server, form, self.options.rounds, 2 * self.options.seconds, 8, get_one
            )
            row.service, row.service_rss = result.logins, server.peak_rss_mb()
        share = result.logins.rate / result.ceiling
        failed = result.logins.failed + result.beside_reads.failed
        if failed:
            report.lines.append(
                f"logins: {failed:,} answered with an error: the form may want fields "
                f"bench/logins.py does not send"
            )
        reader_failed = result.get_one.failed
        report.lines.append(
            f"logins: {result.logins.rate:,.1f}/s = {share:.0%} of argon2id alone "
            f"({result.ceiling:,.1f}/s) [target >= 80%: {verdict(not failed and share >= 0.8)}]; "
            f"beside a GET one reader {result.beside_reads.rate:,.1f}/s "
            f"({result.beside_reads.rate / result.ceiling:.0%}), the reader's p99 "
            f"{result.get_one.p99_ms:.1f} ms"
            f"{f' ({reader_failed:,} failed)' if reader_failed else ''} "
            f"[target < 50 ms: {verdict(not reader_failed and result.get_one.p99_ms < 50)}]"
        )
        return row

    def run_admin(self, filled: Filled, report: Report) -> list[Row]:
        """The back office's customers list: each page read by a logged-in staff user on a
        few connections, so that the latency is the server's time rather than a queue."""
        admin.add_staff_user(filled)
        rows: list[Row] = []
        with self.service(filled) as server:
            cookie = admin.session_cookie(server)
            if cookie is None:
                report.lines.append("back office: not available on this build")
                return rows
            for name, path in admin.pages(filled.customers):
                request = admin.request(cookie, path)
                processes.load(server, self.options.warmup, 1, request)
                loads = [
                    processes.load(
                        server, self.options.seconds, self.options.admin_connections, request
                    )
                    for _ in range(self.options.rounds)
                ]
                row = Row(name, max(loads, key=lambda load: load.rate), server.peak_rss_mb())
                worst = max(load.p99_ms for load in loads)
                failed = sum(load.failed for load in loads)
                met = not failed and worst <= admin.TARGET_P99_MS
                row.note = f"p99 {worst:.1f} ms"
                problems = f" ({failed:,} failed)" if failed else ""
                report.lines.append(
                    f"back office {name}: p99 {worst:.1f} ms{problems} "
                    f"[target <= {admin.TARGET_P99_MS:g} ms: {verdict(met)}]"
                )
                rows.append(row)
        return rows

    def chosen(self, name: str) -> bool:
        return not self.options.only or name in self.options.only

    def run_backend(self, backend: str) -> Report:
        self.backend, self.profiles = backend, []
        with throwaway_database(backend, self.options.postgres) as url:
            filled = fill(url, self.options.customers)
            report = Report(backend, filled, processes.load_average())
            # Reads first: the searches' expected pages hold the names the fill gave.
            for case in CASES[:3]:
                if self.chosen(case.name):
                    report.rows.append(self.run_case(filled, case))
            if backend == "sqlite" and self.chosen(ceiling.CASE):
                report.rows.append(ceiling.run(self, filled, report))
            if self.chosen("search"):
                report.rows += self.run_search(filled, report)
            if self.chosen("fairness"):
                report.rows.append(self.run_fairness(filled, report))
            if backend == "postgresql" and self.chosen("remote"):
                report.rows.append(self.run_remote(filled, report))
            for case in CASES[3:]:
                if self.chosen(case.name):
                    report.rows.append(self.run_case(filled, case))
            if self.chosen("memory"):
                report.rows.append(self.run_memory(filled, report))
            if self.chosen("logins"):
                report.rows.append(self.run_logins(filled, report))
            if self.chosen("admin"):
                report.rows += self.run_admin(filled, report)
            if self.chosen("hooks") or self.chosen("hooks delivery"):
                report.rows += hooks.run(self, filled, report)
            report.load_after = processes.load_average()
        report.lines += self.profiles
        return report


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def failures(row: Row) -> str:
    return f" ({row.failed:,} answers failed)" if row.failed else ""


def authorization(api_key: str) -> str:
    return "Basic " + base64.b64encode(f"{api_key}:X".encode()).decode()


def get_json(server: Server, path: str, api_key: str) -> tuple[int, object]:
    """One plain request: its status and decoded body."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("GET", path, headers={"Authorization": authorization(api_key)})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, None


def expected_search(customers: int, term: str) -> list[str]:
    """The names on the first page of a search for `term`, from what the fill wrote: a part
    of the name, the email address or (the first customer's) username."""
    found: list[str] = []
    for n in range(1, customers + 1):
        name = customer_name(n)
        fields = (name.casefold(), f"customer{n}@example.com", LOGIN_USERNAME if n == 1 else "")
        if any(term in text for text in fields):
            found.append(name)
            if len(found) == PAGE_SIZE:
                break
    return found


@contextmanager
def delay_proxy(url: str, delay_ms: float, logs: Path) -> Iterator[str]:
    """bench/proxy.py in a process of its own on the load core, in front of the PostgreSQL
    server of `url`: yields the URL of the same database through it."""
    target = sa.make_url(url)
    port = processes.free_port()
    argv = [
        "taskset",
        "-c",
        processes.LOAD_CPU,
        *processes.python_command(
            "-m", "bench.proxy", str(port), f"{target.host}:{target.port or 5432}", str(delay_ms)
        ),
    ]
    with (logs / "proxy.log").open("ab") as errors:
        proxy = subprocess.Popen(
            argv,
            cwd=processes.ROOT,
            env={**os.environ, "PYTHONPATH": str(processes.ROOT)},
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
    try:
        assert proxy.stdout is not None
        if not proxy.stdout.readline().startswith(b"forwarding"):
            raise RuntimeError(f"the delay proxy did not start (exit {proxy.wait()})")
        yield target.set(port=port).render_as_string(hide_password=False)
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


def round_trip_ms(url: str, count: int = 50) -> float:
    """The median time of `SELECT 1` on one connection to `url`."""
    conninfo = "postgresql://" + url.split("://", 1)[1]
    times = []
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("SELECT 1")
        for _ in range(count):
            started = time.perf_counter()
            connection.execute("SELECT 1").fetchone()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# GET one's CPU per request: at most 1.5 times the baseline's (a ratio of 0.65 and up), as
# the rate alone depends on how the load and the server share the machine.
GET_ONE_CPU_RATIO = 0.65
PEAK_RSS_MB = 90


def _targets(report: Report) -> None:
    rows = {row.name: row for row in report.rows}
    ratios = [
        "GET one",
        "GET page, offset 0",
        "PUT one field",
        "POST create",
        f"GET one, PG {REMOTE_DELAY_MS:g} ms away",
    ]
    for name in reversed(ratios):
        row = rows.get(name)
        if row is None or row.ratio is None:
            continue
        line = f"{name}: ratio {row.ratio:.2f}{failures(row)}"
        if name == "GET one" and row.cpu_ratio is not None:
            met = not row.failed and row.cpu_ratio >= GET_ONE_CPU_RATIO
            line += (
                f", of CPU per request {row.cpu_ratio:.2f} "
                f"[target >= {GET_ONE_CPU_RATIO}: {verdict(met)}]"
            )
        else:
            line += f" [target >= 0.5: {verdict(not row.failed and row.ratio >= 0.5)}]"
        report.lines.insert(0, line)
    near, far = rows.get("GET page, offset 0"), rows.get(f"GET page, offset {OFFSET_FAR:,}")
    if near and far and near.service and far.service:
        cost = near.service.rate / far.service.rate
        failed = near.failed + far.failed
        report.lines.append(
            f"offset {OFFSET_FAR:,} costs {cost:.2f}x offset 0 in the service"
            f"{f' ({failed:,} answers failed)' if failed else ''} "
            f"[target <= 2x: {verdict(not failed and cost <= 2)}]"
        )
    peak = max((row.service_rss for row in report.rows), default=0.0)
    report.lines.append(
        f"service worker peak RSS {peak:.0f} MB "
        f"[target < {PEAK_RSS_MB} MB: {verdict(peak < PEAK_RSS_MB)}]"
    )


def _cell(load: Load | None, rss: float) -> str:
    if load is None:
        return f"{'-':>8} {'-':>6} {'-':>6} {'-':>6} {'-':>6}"
    failed = f" !{load.failed}" if load.failed else ""
    return (
        f"{load.rate:>8,.0f} {load.p50_ms:>6.2f} {load.p99_ms:>6.2f} {load.cpu_us:>6.0f} "
        f"{rss:>6.0f}{failed}"
    )


def print_report(report: Report, options: argparse.Namespace) -> None:
    filled = report.filled
    title = {"sqlite": "SQLite (WAL)", "postgresql": "PostgreSQL"}[report.backend]
    print(
        f"\n== {title}: {filled.customers:,} customers, filled in {filled.seconds:.1f} s; "
        f"load average before {report.load_before}, after {report.load_after}; "
        f"{options.connections} connections, best of {options.rounds} x {options.seconds:g} s; "
        f"rate limit {options.rate_limit} ({options.rate_limit_strategy})"
    )
    head = f"{'req/s':>8} {'p50 ms':>6} {'p99 ms':>6} {'CPU us':>6} {'RSS MB':>6}"
    print(f"{'case':<34} | {'service':^38} | {'baseline':^38} | ratio (CPU)")
    print(f"{'':<34} | {head} | {head} |")
    for row in report.rows:
        ratio = row.note
        if row.ratio is not None and row.cpu_ratio is not None:
            ratio = f"{row.ratio:.2f} ({row.cpu_ratio:.2f})"
        if row.failed:
            ratio += " FAILED ANSWERS"
        print(
            f"{row.name:<34} | {_cell(row.service, row.service_rss)} | "
            f"{_cell(row.baseline, row.baseline_rss)} | {ratio}"
        )
    _targets(report)
    for line in report.lines:
        print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--seconds", type=float, default=4, help="seconds of one round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per case and server")
    parser.add_argument("--warmup", type=float, default=1, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--pool-size", type=int, default=5, help="FULFILMENT_POOL_SIZE, and the async baseline's"
    )
    parser.add_argument("--search-connections", type=int, default=4)
    parser.add_argument(
        "--admin-connections", type=int, default=2, help="the back office's list page"
    )
    parser.add_argument("--fairness-connections", type=int, default=4, help="tenant B's")
    parser.add_argument(
        "--fairness-delay-ms", type=int, default=10, help="tenant B's pause before each request"
    )
    parser.add_argument(
        "--memory-growth", type=float, default=1.0, help="MB per 100k requests, at most"
    )
    parser.add_argument("--customers", type=int, default=1_000_100)
    parser.add_argument(
        "--memory-requests", type=int, default=1_000_000, help="or --memory-seconds, if sooner"
    )
    parser.add_argument("--memory-seconds", type=float, default=30)
    parser.add_argument("--rate-limit", default="1000000000/minute")
    parser.add_argument("--rate-limit-strategy", default="sliding-window")
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="server"
    )
    parser.add_argument(
        "--only",
        action="append",
        help="a case name (or 'GET one vs ceiling'), 'search', 'fairness', 'remote', 'memory', "
        "'logins', 'admin', 'hooks' or 'hooks delivery' (the delivery rounds alone)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="a directory: sample the service through one more round of each compared case "
        "with py-spy, keep the samples there and print where the time went",
    )
    options = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            parser.exit(2, f"python -m bench needs {tool}: apt-get install wrk util-linux\n")
    if options.profile is not None:
        if profile.py_spy() is None:
            parser.exit(2, "--profile needs py-spy: pip install py-spy\n")
        options.profile.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fulfilment-bench-logs-") as logs:
        bench = Bench(options, Path(logs))
        for backend in options.backend or ["sqlite", "postgresql"]:
            print_report(bench.run_backend(backend), options)
    print(f"\n(total {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
