"""The server process that `fulfilment serve` becomes once the database is up to date: it
starts the workers and imports nothing of the application, so that the workers it forks
carry none of the command line's modules (the migrations, click, rich) in their memory."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The server's own lines (start, workers, shutdown) in the same JSON as the service's.
LOGGING = {
    "formatters": {
        "generic": {"()": "fulfilment.logs.JsonFormatter"},
        "access": {"()": "fulfilment.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "formatter": "generic",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "formatter": "access",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
    },
}


@contextmanager
def metrics_directory() -> Iterator[None]:
    """Where the server's processes write their metrics: PROMETHEUS_MULTIPROC_DIR, or a
    temporary one. Emptied at start and at stop: prometheus_client never removes a file,
    and a run's figures must not add to the next one's. One worker writes there too: what
    a worker counted outlives it when it is replaced, and the server process counts the
    replacements there."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        _empty_metrics_directory(given)
        try:
            yield
        finally:
            _empty_metrics_directory(given)
        return
    # Each process writes its metrics where /metrics, in any worker, adds them all up.
    directory = tempfile.mkdtemp(prefix="fulfilment-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(directory, ignore_errors=True)


def _empty_metrics_directory(directory: str) -> None:
    if os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def serve(host: str, port: int, workers: int, kill_timeout: int) -> None:
    """Serve the application with granian until stopped."""
    from granian.constants import Interfaces

    with metrics_directory():
        _server_class()(
            "fulfilment.app:asgi_factory",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            # A worker that dies (the kernel's OOM killer, a crash in a library) is started
            # again while the others go on serving. One that dies again within a few
            # seconds of being started stops the server: a crash loop is for a supervisor.
            respawn_failed_workers=True,
            # A worker told to stop while it is still starting up may never stop.
            workers_kill_timeout=kill_timeout,
            factory=True,
            log_access=False,
            log_dictconfig=LOGGING,
        ).serve()


def _server_class() -> type[Any]:
    """granian's server, counting the workers it starts in place of one that died."""
    from granian.server import Server
    from prometheus_client import Counter, multiprocess

    # Written to the metrics directory, where every worker's /metrics adds it in.
    restarts = Counter(
        "fulfilment_worker_restarts_total",
        "Worker processes started in place of one that died.",
        registry=None,
    )

    class CountingServer(Server):  # type: ignore[misc, valid-type]
        def _respawn_workers(self, workers: list[int], *args: Any, **kwargs: Any) -> None:
            # Also called to replace live workers (SIGHUP): only the dead ones count.
            dead = [self.wrks[idx] for idx in workers if not self.wrks[idx].is_alive()]
            super()._respawn_workers(workers, *args, **kwargs)
            for worker in dead:
                multiprocess.mark_process_dead(worker.inner.pid)  # type: ignore[no-untyped-call]
                restarts.inc()

    return CountingServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fulfilment.server")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--kill-timeout", type=int, required=True)
    arguments = parser.parse_args()
    serve(arguments.host, arguments.port, arguments.workers, arguments.kill_timeout)


if __name__ == "__main__":
    main()
