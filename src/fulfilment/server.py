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
def metrics_directory(workers: int) -> Iterator[None]:
    """Where the workers write their metrics: PROMETHEUS_MULTIPROC_DIR, or a temporary one
    with several workers. Emptied at start and at stop: prometheus_client never removes a
    file, and a run's figures must not add to the next one's."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        _empty_metrics_directory(given)
        try:
            yield
        finally:
            _empty_metrics_directory(given)
        return
    if workers == 1:
        yield
        return
    # Each worker writes its metrics where /metrics, in any worker, adds them all up.
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
    from granian.server import Server

    with metrics_directory(workers):
        Server(
            "fulfilment.app:asgi_factory",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            # A worker told to stop while it is still starting up may never stop.
            workers_kill_timeout=kill_timeout,
            factory=True,
            log_access=False,
            log_dictconfig=LOGGING,
        ).serve()


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
