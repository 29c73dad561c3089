"""The login case: the portal's login rate against what argon2id verification alone allows
on the server core, and GET one's latency while logins saturate that core."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from . import processes
from .fill import LOGIN_PASSWORD, LOGIN_USERNAME, SUBDOMAIN
from .processes import Load, Server

LOGIN_PATH = "/portal/login"


def portal_host(server: Server) -> str:
    return f"{SUBDOMAIN}.localhost:{server.port}"


def login_form(server: Server) -> tuple[str, str] | None:
    """The session cookie and form token a browser gets with the login page; None on a build
    without the portal."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", LOGIN_PATH, headers={"Host": portal_host(server)})
        response = connection.getresponse()
        page = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    if response.status == 404:
        return None
    cookies = response.headers.get_all("Set-Cookie") or []
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)
    return "; ".join(c.split(";", 1)[0] for c in cookies), token[1] if token else ""


def verifications_per_second(seconds: float) -> float:
    """argon2id verifications of the portal user's password hash, one after another."""
    from fulfilment.passwords import hash_password_sync, verify_password_sync

    password_hash = hash_password_sync(LOGIN_PASSWORD)
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        verify_password_sync(password_hash, LOGIN_PASSWORD)
        count += 1
    return count / (time.perf_counter() - started)


def verification_ceiling(seconds: float) -> float:
    """`verifications_per_second` measured on the server core, in a process of its own."""
    code = f"from bench.logins import verifications_per_second as v; print(v({seconds}))"
    output = subprocess.run(
        ["taskset", "-c", processes.SERVER_CPU, sys.executable, "-c", code],
        cwd=processes.ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.strip())


@dataclass(frozen=True, slots=True)
class LoginResult:
    ceiling: float
    logins: Load  # logins alone
    beside_reads: Load  # logins while a light reader asks for one customer
    get_one: Load  # that reader


def measure(
    server: Server,
    form: tuple[str, str],
    seconds: float,
    connections: int,
    get_one: dict[str, str] | None,
) -> tuple[Load, Load | None]:
    """Saturate the server with logins, with a few connections asking for one customer
    meanwhile when `get_one` is given. Every login posts the form of one page view: the
    session cookie is signed, not stored."""
    cookie, token = form
    body = {"username": LOGIN_USERNAME, "password": LOGIN_PASSWORD, "csrf_token": token}
    request = {
        "BENCH_METHOD": "POST",
        "BENCH_PATH": LOGIN_PATH,
        "BENCH_HOST": portal_host(server),
        "BENCH_COOKIE": cookie,
        "BENCH_CONTENT_TYPE": "application/x-www-form-urlencoded",
        "BENCH_BODY": urlencode(body),
    }
    logins = processes.run_wrk(server.port, seconds, connections, request)
    # A light reader beside the logins: two connections, each asking every 20 ms.
    readers = (
        processes.run_wrk(server.port, seconds, 2, {**get_one, "BENCH_DELAY_MS": "20"})
        if get_one is not None
        else None
    )
    return processes.wrk_result(logins), processes.wrk_result(readers) if readers else None


def measure_rounds(
    server: Server,
    form: tuple[str, str],
    rounds: int,
    seconds: float,
    connections: int,
    get_one: dict[str, str],
) -> LoginResult:
    """In turns: argon2id alone, the server's logins alone, and its logins beside a light
    reader of one customer. Like the service and the baseline in the other cases, each
    keeps its best round, since other work on the machine can only slow one down; the
    reader's p99 is the worst round's."""
    measure(server, form, 1, connections, None)  # warm-up
    ceilings, alone, beside = [], [], []
    for _ in range(rounds):
        ceilings.append(verification_ceiling(seconds))
        alone.append(measure(server, form, seconds, connections, None)[0])
        logins, reads = measure(server, form, seconds, connections, get_one)
        assert reads is not None
        beside.append((logins, reads))
    return LoginResult(
        max(ceilings),
        max(alone, key=lambda load: load.rate),
        max((logins for logins, _ in beside), key=lambda load: load.rate),
        max((reads for _, reads in beside), key=lambda load: load.p99_ms),
    )
