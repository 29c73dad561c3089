"""`python -m bench`: fill a throwaway database, run every case against the service and the
baseline, one server core and one load core, and print the table with the targets."""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import logins, processes
from .fill import Filled, fill, throwaway_database
from .processes import Load, Server

API = "/api/v1/fulfilment/customers"
OFFSET_FAR = 1_000_000


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

    def request(self, filled: Filled, case: Case) -> dict[str, str]:
        token = base64.b64encode(f"{filled.api_key}:X".encode()).decode()
        request = {
            "BENCH_METHOD": case.method,
            "BENCH_PATH": case.path,
            "BENCH_AUTHORIZATION": f"Basic {token}",
            "BENCH_ID_MIN": str(filled.first_id),
            "BENCH_ID_MAX": str(filled.last_id),
            "BENCH_PAGE_END": str(filled.customers - filled.customers % 100),
        }
        if case.body is not None:
            request["BENCH_BODY"] = json.dumps(case.body)
        return request

    @contextmanager
    def service(self, filled: Filled) -> Iterator[Server]:
        env = {
            "FULFILMENT_DATABASE_URL": filled.url,
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

    def run_case(self, filled: Filled, case: Case) -> Row:
        """Both servers up, warmed, then measured in turns; each keeps its best round, as
        other work on the machine can only slow a round down."""
        options = self.options
        row = Row(case.name)
        request = self.request(filled, case)
        with self.service(filled) as service, self.baseline(filled) as baseline:
            for server in (service, baseline):
                processes.load(server, options.warmup, options.connections, request)
            for _ in range(options.rounds):
                ours = processes.load(service, options.seconds, options.connections, request)
                theirs = processes.load(baseline, options.seconds, options.connections, request)
                if row.service is None or ours.rate > row.service.rate:
                    row.service = ours
                if row.baseline is None or theirs.rate > row.baseline.rate:
                    row.baseline = theirs
            row.service_rss, row.baseline_rss = service.peak_rss_mb(), baseline.peak_rss_mb()
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
        report.lines.append(
            f"memory: {total:,} requests ({failed} failed), worker RSS MB after "
            f"{points}; peak {row.service_rss:.0f} MB; second half "
            f"{growth:+.2f} MB per 100k requests"
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
        report.lines.append(
            f"logins: {result.logins.rate:,.1f}/s = {share:.0%} of argon2id alone "
            f"({result.ceiling:,.1f}/s) [target >= 80%: {'met' if share >= 0.8 else 'MISSED'}]; "
            f"beside a GET one reader {result.beside_reads.rate:,.1f}/s "
            f"({result.beside_reads.rate / result.ceiling:.0%}), the reader's p99 "
            f"{result.get_one.p99_ms:.1f} ms "
            f"[target < 50 ms: {'met' if result.get_one.p99_ms < 50 else 'MISSED'}]"
        )
        return row

    def run_backend(self, backend: str) -> Report:
        with throwaway_database(backend, self.options.postgres) as url:
            filled = fill(url, self.options.customers)
            report = Report(backend, filled, processes.load_average())
            cases = [c for c in CASES if not self.options.only or c.name in self.options.only]
            for case in cases:
                report.rows.append(self.run_case(filled, case))
            if not self.options.only or "memory" in self.options.only:
                report.rows.append(self.run_memory(filled, report))
            if not self.options.only or "logins" in self.options.only:
                report.rows.append(self.run_logins(filled, report))
            report.load_after = processes.load_average()
        return report


def _targets(report: Report) -> None:
    rows = {row.name: row for row in report.rows}
    for name in ("GET one", "GET page, offset 0", "PUT one field", "POST create"):
        row = rows.get(name)
        if row is not None and row.ratio is not None:
            verdict = "met" if row.ratio >= 0.5 else "MISSED"
            report.lines.insert(0, f"{name}: ratio {row.ratio:.2f} [target >= 0.5: {verdict}]")
    near, far = rows.get("GET page, offset 0"), rows.get(f"GET page, offset {OFFSET_FAR:,}")
    if near and far and near.service and far.service:
        cost = near.service.rate / far.service.rate
        verdict = "met" if cost <= 2 else "MISSED"
        report.lines.append(
            f"offset {OFFSET_FAR:,} costs {cost:.2f}x offset 0 in the service "
            f"[target <= 2x: {verdict}]"
        )
    peak = max((row.service_rss for row in report.rows), default=0.0)
    verdict = "met" if peak < 100 else "MISSED"
    report.lines.append(f"service worker peak RSS {peak:.0f} MB [target < 100 MB: {verdict}]")


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
    print(f"{'case':<28} | {'service':^38} | {'baseline':^38} | ratio (CPU)")
    print(f"{'':<28} | {head} | {head} |")
    for row in report.rows:
        ratio = row.note
        if row.ratio is not None and row.cpu_ratio is not None:
            ratio = f"{row.ratio:.2f} ({row.cpu_ratio:.2f})"
        print(
            f"{row.name:<28} | {_cell(row.service, row.service_rss)} | "
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
    parser.add_argument("--only", action="append", help="a case name, 'memory' or 'logins'")
    options = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            parser.exit(2, f"python -m bench needs {tool}: apt-get install wrk util-linux\n")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fulfilment-bench-logs-") as logs:
        bench = Bench(options, Path(logs))
        for backend in options.backend or ["sqlite", "postgresql"]:
            print_report(bench.run_backend(backend), options)
    print(f"\n(total {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
