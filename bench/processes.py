"""Servers pinned to one core, wrk pinned to the other, and what the kernel says about their
memory."""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVER_CPU = "0"
LOAD_CPU = "1"
ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _status_kb(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


@dataclass
class Server:
    """A server process (granian's main process) and the worker it spawned."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def _worker_pids(self) -> list[int]:
        return _descendants(self.process.pid) or [self.process.pid]

    def peak_rss_mb(self) -> float:
        """The worker's peak resident memory since it started (VmHWM)."""
        return max(_status_kb(pid, "VmHWM") for pid in self._worker_pids()) / 1024

    def cpu_seconds(self) -> float:
        """User and system time the worker has used so far."""
        total = 0
        for pid in self._worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        return max(_status_kb(pid, "VmRSS") for pid in self._worker_pids()) / 1024

    def status_of(self, method: str, path: str, headers: Mapping[str, str]) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, headers=dict(headers))
            return connection.getresponse().status
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(name: str, command: list[str], env: Mapping[str, str], logs: Path) -> Server:
    """Start `command` (with {port} filled in) pinned to the server core; wait until it answers."""
    port = free_port()
    log = logs / f"{name}.log"
    argv = ["taskset", "-c", SERVER_CPU, *(part.format(port=port) for part in command)]
    environment = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as output:
        process = subprocess.Popen(
            argv,
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")
        try:
            server.status_of("GET", "/", {})
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not answer within 60 seconds")


@dataclass(frozen=True, slots=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    socket_errors: int
    non_2xx: int
    p50_ms: float
    p99_ms: float
    # The server's CPU time per answered request: steadier than req/s on a shared machine.
    cpu_us: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return self.socket_errors + self.non_2xx


def run_wrk(
    port: int, seconds: float, connections: int, request: Mapping[str, str]
) -> subprocess.Popen[str]:
    """Start wrk on the load core; `request` holds the BENCH_* variables of wrk.lua."""
    argv = [
        "taskset",
        "-c",
        LOAD_CPU,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}",
    ]
    return subprocess.Popen(argv, env={**os.environ, **request}, stdout=subprocess.PIPE, text=True)


def wrk_result(process: subprocess.Popen[str]) -> Load:
    output, _ = process.communicate()
    for line in output.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[len("BENCH ") :])
            return Load(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                socket_errors=data["socket_errors"],
                non_2xx=data["non_2xx"],
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no result:\n{output}")


def load(server: Server, seconds: float, connections: int, request: Mapping[str, str]) -> Load:
    before = server.cpu_seconds()
    result = wrk_result(run_wrk(server.port, seconds, connections, request))
    used = server.cpu_seconds() - before
    return dataclasses.replace(result, cpu_us=used / max(1, result.requests) * 1e6)


def python_command(*arguments: str) -> list[str]:
    return [sys.executable, *arguments]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
