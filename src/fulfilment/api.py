"""Plumbing every API route shares: authentication, the request context, method dispatch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .auth import KeyCache, Principal, authenticate
from .db import Database
from .errors import ApiError, Unauthenticated
from .ratelimit import Quota, RateLimiter
from .settings import Settings
from .wire import discard_body

Endpoint = Callable[[Request], Awaitable[Response]]
ApiHandler = Callable[[Request, "ApiContext"], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class ApiContext:
    settings: Settings
    database: Database
    principal: Principal


def api_endpoint(*, full_access: bool) -> Callable[[ApiHandler], Endpoint]:
    """Authenticate the caller before `handler` runs. `full_access` refuses keys that are
    scoped to one fulfilment customer."""

    def decorate(handler: ApiHandler) -> Endpoint:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            state = request.app.state
            database: Database = state.database
            limiter: RateLimiter = state.rate_limiter
            quota: Quota | None = None
            handling = False
            try:
                try:
                    keys: KeyCache = state.api_keys
                    principal = await authenticate(database, request, keys, state.key_usage)
                except Unauthenticated:
                    # Unauthenticated callers are counted by address, so that guessing keys
                    # is throttled like any other traffic.
                    client = request.client.host if request.client else "unknown"
                    quota = await limiter.check(f"address:{client}")
                    raise
                quota = await limiter.check(f"key:{principal.api_key_tag}")
                if full_access:
                    principal.require_full_access()
                handling = True
                response = await handler(request, ApiContext(state.settings, database, principal))
            except Exception as error:
                if isinstance(error, ApiError) and quota is not None:
                    error.headers = {**(error.headers or {}), **quota.headers}
                if not handling:
                    await discard_body(request, state.settings.max_body_bytes)
                raise
            if quota is not None:
                # Neither header is set by a handler: append them without a lookup.
                response.raw_headers += quota.raw_headers
            # The zone the answer's date-times are in, for clients that show them to people.
            response.raw_headers.append((b"x-time-zone", principal.timezone.key.encode()))
            return response

        return endpoint

    return decorate


def resource(path: str, **handlers: Endpoint) -> Route:
    """One route for a path, dispatching on the method, so that a method the path does not
    have is answered 405 with an `Allow` header naming every method it does have."""
    methods = {name.upper(): handler for name, handler in handlers.items()}
    if "GET" in methods:
        methods.setdefault("HEAD", methods["GET"])

    async def dispatch(request: Request) -> Response:
        return await methods[request.method](request)

    return Route(path, dispatch, methods=list(methods))
