"""What operators watch: a request id on every answer and log line, structured JSON logs,
Prometheus metrics, and the /health, /ready and /metrics endpoints."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
import uuid
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ServiceUnavailable
from .logs import request_id
from .wire import JsonResponse

access_log = logging.getLogger("fulfilment.access")
REQUEST_ID_HEADER = b"x-request-id"
# An id a proxy or client sent is kept when it is safe to echo and to log.
_ACCEPTABLE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")

REQUESTS = Counter(
    "fulfilment_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "fulfilment_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
RATE_LIMITED = Counter(
    "fulfilment_rate_limit_rejections_total", "Requests refused with 429 by the rate limit."
)
REDIS_OUTAGES = Counter(
    "fulfilment_redis_outages_total",
    "Times a process found Redis unreachable and began counting in-process instead.",
)
REDIS_FALLBACK_HITS = Counter(
    "fulfilment_redis_fallback_hits_total",
    "Rate-limit and login-throttle hits counted in-process because Redis was unreachable.",
)
LOGIN_FAILURES = Counter(
    "fulfilment_portal_login_failures_total", "Portal logins refused (bad or throttled)."
)
MAIL_SENT = Counter("fulfilment_mail_sent_total", "Mails the SMTP server accepted.", ["kind"])
MAIL_FAILURES = Counter(
    "fulfilment_mail_failures_total", "Attempts to send a mail that failed.", ["kind"]
)
MAIL_ABANDONED = Counter(
    "fulfilment_mail_abandoned_total", "Mails given up on after every retry failed.", ["kind"]
)
# Every process counts the same rows: with several, the largest count is the latest.
JOBS = Gauge(
    "fulfilment_jobs",
    "Background jobs (kind: hook, mail) by state: pending, done or failed.",
    ["kind", "state"],
    multiprocess_mode="max",
)
SQLITE_COMMITS = Counter(
    "fulfilment_sqlite_commits_total", "Write transactions committed on SQLite."
)
SQLITE_COMMITTED_UNITS = Counter(
    "fulfilment_sqlite_committed_units_total",
    "Units of work (a request's writes, a worker's round) in them: several share one "
    "transaction when they wait for the writer together.",
)


# Request ids: 64 random bits for this process, then a counter. Unique across processes
# and restarts for all practical purposes, and far cheaper than a UUID per request.
_ids = itertools.count(1)
_process_tag = uuid.uuid4().hex[:16]


def new_request_id() -> str:
    return f"{_process_tag}{next(_ids):016x}"


def _new_process_tag() -> None:
    global _process_tag
    _process_tag = uuid.uuid4().hex[:16]


# Forked workers would otherwise share the parent's tag and counter.
os.register_at_fork(after_in_child=_new_process_tag)


# Label values come from a fixed set, never from what a client sent: a made-up method or
# path would otherwise add a series (and, with several workers, file space) per request.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
UNMATCHED_ROUTE = "unmatched"


def route_label(scope: Scope, root_path: str) -> str:
    """The template of the route that answered (`/api/v1/fulfilment/customers/{id...}`),
    or `unmatched`."""
    route = scope.get("route")
    if not isinstance(route, Route):
        return UNMATCHED_ROUTE
    mounted: str = scope.get("root_path", "")[len(root_path) :]
    return mounted + route.path


class RequestContext:
    """Outermost ASGI layer: names the request, times it, counts it and logs it."""

    def __init__(self, app: ASGIApp, *, log_requests: bool) -> None:
        self.app = app
        self.log_requests = log_requests
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == REQUEST_ID_HEADER), None)
        rid = given.decode() if given and _ACCEPTABLE_ID.match(given) else new_request_id()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        root_path = scope.get("root_path", "")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            label = route_label(scope, root_path)
            method = scope["method"]
            if method not in KNOWN_METHODS:
                method = OTHER_METHOD
            counted = self._series.get((method, label, status))
            if counted is None:
                # Label lookups take a lock and build keys: do them once per series.
                counted = self._series[(method, label, status)] = (
                    REQUESTS.labels(method, label, str(status)),
                    LATENCY.labels(method, label),
                )
            counted[0].inc()
            counted[1].observe(elapsed)
            if self.log_requests:
                access_log.info(
                    "%s %s %d",
                    method,
                    scope["path"],
                    status,
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": label,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
            request_id.reset(token)


def metrics_text() -> bytes:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        # Several worker processes: add up what each wrote to the shared directory.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


async def health(request: Request) -> Response:
    """The process is alive and serving."""
    return JsonResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """The dependencies answer: the database, and Redis when one is configured. Without
    Redis the service still serves (counting in-process): 200, `degraded`, naming it."""
    state = request.app.state
    try:
        await state.database.reachable()
    except Exception as error:
        raise ServiceUnavailable("Not ready: the database cannot be reached.") from error
    status, redis = "ready", "not configured"
    if state.shared_counters is not None:
        redis = "ok" if await state.shared_counters.reachable() else "unreachable"
    if redis == "unreachable":
        status = "degraded"
    return JsonResponse({"status": status, "database": "ok", "redis": redis})


async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    return Response(metrics_text(), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/health", health, methods=["GET"]),
    Route("/ready", ready, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
