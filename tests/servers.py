"""Real server processes for tests that need TCP, several workers, or a kill."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from click.testing import CliRunner

from fulfilment.cli import main as command_line

FULFILMENT = [sys.executable, "-m", "fulfilment.cli"]
# Every server of a test, and the test's own app, encrypt stored secrets with this key
# (a server refuses to start on PostgreSQL without one).
ENCRYPTION_KEY = "tests-encryption-key-of-every-instance"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_cli(env: Mapping[str, str], *args: str) -> str:
    result = subprocess.run(
        [*FULFILMENT, *args], env={**os.environ, **env}, check=True, capture_output=True, text=True
    )
    return result.stdout


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL the server and its workers at once, as a crash or an OOM kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(env: Mapping[str, str], workers: int = 1, log: Path | None = None) -> Server:
    """A server on a free port; its output goes to `log` when given, else nowhere."""
    port = free_port()
    with log.open("ab") if log is not None else nullcontext(subprocess.DEVNULL) as output:
        process = subprocess.Popen(
            [*FULFILMENT, "serve", "--port", str(port), "--workers", str(workers)],
            env={"FULFILMENT_ENCRYPTION_KEY": ENCRYPTION_KEY, **os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{server.url}/api/v1/openapi.json", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the server on port {port} did not start")
        time.sleep(0.1)


@contextmanager
def running_server(
    env: Mapping[str, str], workers: int = 1, log: Path | None = None
) -> Iterator[Server]:
    server = start_server(env, workers, log)
    try:
        yield server
    finally:
        server.stop()


def new_account(env: Mapping[str, str], subdomain: str = "acme") -> str:
    """Create an account with reference data through the command line, on a database
    brought up to date first as an operator would; return a key. The commands run in
    this process: each in a process of its own cost a second of imports."""
    cli(env, "db", "upgrade")
    cli(env, "accounts", "create", f"{subdomain.title()} BV", "--subdomain", subdomain)
    cli(env, "warehouses", "create", "--account", subdomain, "--name", "Main")
    cli(env, "templates", "create", "--account", subdomain, "--name", "Slip")
    cli(
        env, "shippingproviders", "create", "--account", subdomain, "--name", "PostNL",
        "--provider", "PostNL", "--profile", "Standard", "--profile", "Signature",
    )  # fmt: skip
    return cli(env, "apikeys", "create", "--account", subdomain).strip()


def cli(env: Mapping[str, str], *args: str) -> str:
    """The output of the command line run in this process with `env` set."""
    result = CliRunner().invoke(command_line, list(args), env=dict(env))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


class RedisServer:
    """A redis-server on a port of its own, that the test kills, restarts and pauses."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.kill()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(folder: Path, name: str = "127.0.0.1") -> Certificate:
    """A self-signed certificate (its own certificate authority) for `name`: an IP address
    or a host name."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
            "-addext", f"subjectAltName={'IP' if name[0].isdigit() else 'DNS'}:{name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


class PgBouncer:
    """Debian's stock PgBouncer in transaction pooling mode, on a port of its own, in front
    of the test PostgreSQL server: `pool_size` server connections per database and user,
    shared by every client, and nothing configured for the service's sake."""

    def __init__(self, server_url: str, pool_size: int = 3) -> None:
        self.server = httpx.URL(server_url.replace("postgresql", "http", 1))
        self.port = free_port()
        self.pool_size = pool_size
        # Not under pytest's folders: PgBouncer refuses to run as root, and its user must
        # read its configuration.
        self.directory = Path(tempfile.mkdtemp(prefix="fulfilment-pgbouncer-"))
        self.log = self.directory / "pgbouncer.log"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        """The URL of `database` (a name, or a URL whose name is taken) through PgBouncer."""
        name = database.rsplit("/", 1)[-1]
        return f"postgresql://{self.server.username}@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        ini = self.directory / "pgbouncer.ini"
        users = self.directory / "userlist.txt"
        ini.write_text(
            "[databases]\n"
            f"* = host={self.server.host} port={self.server.port or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\nmax_client_conn = 1000\n"
            f"logfile = {self.log}\n"
        )
        users.write_text(f'"{self.server.username}" ""\n')
        command = ["pgbouncer", str(ini)]
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            for path in (ini, users):
                shutil.chown(path, "postgres")
            command[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PgBouncer did not start: {self.log_text()}") from None
                time.sleep(0.05)

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def error_lines(self) -> list[str]:
        """The lines of PgBouncer's log above LOG: warnings, errors, fatal ones."""
        return [
            line
            for line in self.log_text().splitlines()
            if any(f" {level} " in line for level in ("WARNING", "ERROR", "FATAL"))
        ]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)
