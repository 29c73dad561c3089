"""The ASGI application: routes, the error handlers, and the lifetime of shared resources."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp

from . import docs, logs, observability
from .admin.routes import routes as admin_routes
from .admin.web import BackOffice
from .api import ApiRouter, ApiServices, Resource
from .auth import KeyCache, KeyChanges, KeyUsage
from .customers.routes import routes as customer_routes
from .db import Database
from .edge import Edge
from .errors import (
    UNKNOWN_ERROR,
    ApiError,
    ErrorBody,
    MethodNotAllowed,
    ServiceUnavailable,
    UnknownPath,
)
from .hooks.routes import routes as hook_routes
from .jobs import kinds as jobs
from .mail.mailer import Mailer
from .observability import RequestContext
from .openapi import build_openapi
from .portal.routes import routes as portal_routes
from .portal.web import Portal
from .ratelimit import RateLimiter, shared_counters
from .reference.routes import routes as reference_routes
from .settings import Settings
from .staff.routes import routes as staff_routes
from .wire import JsonResponse

log = logging.getLogger("fulfilment")
API_PREFIX = "/api/v1"


def _error_response(error: ApiError) -> Response:
    return JsonResponse(
        ErrorBody(error_code=error.code, error_message=error.message),
        status_code=error.status,
        headers=error.headers,
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405, in the wire format."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        return _error_response(
            MethodNotAllowed(f"{request.method} is not allowed here; use {allow}.", allow)
        )
    if exc.status_code == 404:
        path = request.url.path
        if not _in_api(path) and (twin := _slash_twin(request)) is not None:
            # Relative, unlike Starlette's own: the Host header is the client's to forge,
            # and behind a proxy that ends TLS the scheme seen here is the wrong one.
            query = request.url.query
            return RedirectResponse(twin + ("?" + query if query else ""), status_code=307)
        return _error_response(UnknownPath(f"There is no {path}."))
    return JsonResponse(
        ErrorBody(error_code=UNKNOWN_ERROR, error_message=str(exc.detail)),
        status_code=exc.status_code,
    )


def _in_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def _slash_twin(request: Request) -> str | None:
    """The path with its trailing slash added or taken off, when a route serves that."""
    path: str = request.scope["path"]
    twin = path.rstrip("/") if path.endswith("/") else path + "/"
    # `//host/...` would be a protocol-relative address: another site.
    if not twin.startswith("/") or twin.startswith(("//", "/\\")):
        return None
    scope = {**request.scope, "path": twin}
    routes = request.app.router.routes
    if any(route.matches(scope)[0] is not Match.NONE for route in routes):
        return twin
    return None


async def _server_error(request: Request, exc: Exception) -> Response:
    dbapi = request.app.state.database.dialect.loaded_dbapi
    if isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError):
        # The database is down, restarting, or locked for longer than busy_timeout.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return _error_response(ServiceUnavailable("The database cannot be reached right now."))
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JsonResponse(
        ErrorBody(error_code=UNKNOWN_ERROR, error_message="Internal server error."),
        status_code=500,
    )


class Service(Starlette):
    """Starlette with the request context wrapped around everything, error pages included,
    and the API's router in front of Starlette's (see ApiRouter)."""

    log_requests = False
    settings = Settings()
    api_routes: Sequence[Resource] = ()

    def build_middleware_stack(self) -> ASGIApp:
        api = ApiRouter(
            API_PREFIX, self.api_routes, self.exception_handlers, super().build_middleware_stack()
        )
        return RequestContext(Edge(api, self.settings), log_requests=self.log_requests)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the service for `settings` (read from the environment when not given)."""
    settings = Settings.from_env() if settings is None else settings.checked()
    database = Database(settings)
    shared = shared_counters(settings)
    rate_limiter = RateLimiter(settings, shared)
    key_changes = KeyChanges(database)
    api_keys = KeyCache(key_changes.version)
    key_usage = KeyUsage(database)
    openapi_document = build_openapi()
    background = jobs.engine(database, key_usage, shared)

    async def openapi(request: Request) -> Response:
        return JsonResponse(openapi_document)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await database.start()
        key_changes.start()
        background.start()
        try:
            yield
        finally:
            await background.stop()
            key_changes.stop()
            if shared is not None:
                await shared.close()
            await database.aclose()

    app = Service(
        routes=[
            *docs.routes(),
            *observability.routes,
            *portal_routes,
            *admin_routes,
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            # Named here, not left to the catch-all: Starlette hands what reaches that one to
            # the server after answering, which logs a traceback for every request made
            # while the database is away.
            database.dialect.loaded_dbapi.OperationalError: _server_error,
            database.dialect.loaded_dbapi.InterfaceError: _server_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    # No redirects under the API: a client that adds or drops a slash is told the path is
    # unknown, in the wire format (see _http_error for the rest).
    app.api_routes = [
        *customer_routes,
        *reference_routes,
        *staff_routes,
        *hook_routes,
        Resource("/openapi.json", {"GET": openapi}),
    ]
    app.settings = settings
    app.state.settings = settings
    app.state.database = database
    app.state.rate_limiter = rate_limiter
    app.state.shared_counters = shared
    app.log_requests = settings.access_log
    app.state.portal = Portal(settings, database, shared)
    app.state.back_office = BackOffice(settings, database, shared)
    app.state.mailer = Mailer(settings, shared, on_written=background.wake)
    app.state.api_keys = api_keys
    app.state.key_usage = key_usage
    app.state.api = ApiServices(settings, database, rate_limiter, api_keys, key_usage)
    app.state.jobs = background
    return app


def asgi_factory() -> Starlette:
    """Entry point for the server: settings come from the environment."""
    settings = Settings.from_env()
    settings.require_encryption_key()
    logs.configure_logging(settings.log_level)
    return create_app(settings)
