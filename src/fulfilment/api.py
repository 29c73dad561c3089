"""Plumbing every API route shares: authentication, the request context, and the router
of `/api/v1`, which finds a request's route and method and answers its errors in one pass."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any

from starlette._utils import get_route_path
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .auth import KeyCache, KeyUsage, Principal, authenticate
from .db import Database
from .errors import ApiError, Unauthenticated
from .ratelimit import Quota, RateLimiter
from .settings import Settings
from .wire import discard_body

Endpoint = Callable[[Request], Awaitable[Response]]
ApiHandler = Callable[[Request, "ApiContext"], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class ApiServices:
    """What every API request uses, found with one lookup (`app.state.api`)."""

    settings: Settings
    database: Database
    limiter: RateLimiter
    keys: KeyCache
    usage: KeyUsage


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
            services: ApiServices = request.app.state.api
            database, limiter = services.database, services.limiter
            quota: Quota | None = None
            handling = False
            try:
                try:
                    principal = await authenticate(database, request, services.keys, services.usage)
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
                response = await handler(
                    request, ApiContext(services.settings, database, principal)
                )
            except Exception as error:
                if isinstance(error, ApiError) and quota is not None:
                    error.headers = {**(error.headers or {}), **quota.headers}
                if not handling:
                    await discard_body(request, services.settings.max_body_bytes)
                raise
            if quota is not None:
                # Neither header is set by a handler: append them without a lookup.
                response.raw_headers += quota.raw_headers
            # The zone the answer's date-times are in, for clients that show them to people.
            response.raw_headers.append((b"x-time-zone", principal.timezone.key.encode()))
            return response

        return endpoint

    return decorate


class Resource(Route):
    """One route for a path, dispatching on the method, so that a method the path does not
    have is answered 405 with an `Allow` header naming every method it does have."""

    def __init__(self, path: str, handlers: Mapping[str, Endpoint]) -> None:
        self.handlers = dict(handlers)
        if "GET" in self.handlers:
            self.handlers.setdefault("HEAD", self.handlers["GET"])

        async def dispatch(request: Request) -> Response:
            return await self.handlers[request.method](request)

        super().__init__(path, dispatch, methods=list(self.handlers))


def resource(path: str, **handlers: Endpoint) -> Resource:
    return Resource(path, {name.upper(): handler for name, handler in handlers.items()})


ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class ApiRouter:
    """Everything under `prefix`: the route, the method and the endpoint found in one pass,
    and an error answered by the application's handler for it, as Starlette's router,
    mount and exception middleware would (the same scope, answers and logs), without their
    layers on every request. An exception no handler is named for is answered by the one
    named for `Exception` (a 500), then passed on to the server."""

    def __init__(
        self,
        prefix: str,
        routes: Sequence[Resource],
        handlers: Mapping[Any, ErrorHandler],
        other: ASGIApp,
    ) -> None:
        self.prefix = prefix
        self.routes = list(routes)
        self._handlers = {
            kind: handler for kind, handler in handlers.items() if kind is not Exception
        }
        self._server_error = handlers[Exception]
        # Whatever is not under the prefix.
        self.other = other

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.other(scope, receive, send)
            return
        route_path = get_route_path(scope)
        prefix = self.prefix
        if not route_path.startswith(prefix) or route_path[len(prefix) : len(prefix) + 1] != "/":
            await self.other(scope, receive, send)
            return
        root_path = scope.get("root_path", "")
        scope["app_root_path"] = scope.get("app_root_path", root_path)
        scope["root_path"] = root_path + prefix
        request = Request(scope, receive, send)
        response: Response | None
        try:
            response = await self._answer(scope, request, route_path[len(prefix) :])
        except Exception as error:
            response = await self._error(request, error, send)
            if response is None:
                raise
        try:
            await response(scope, receive, send)
        except Exception as error:
            # As the server error middleware: logged, and the answer already begun.
            await self._server_error(request, error)
            raise

    async def _answer(self, scope: Scope, request: Request, path: str) -> Response:
        method = scope["method"]
        partial: Resource | None = None
        for route in self.routes:
            match = route.path_regex.match(path)
            if match is None:
                continue
            if method not in route.handlers:
                partial = partial or route
                continue
            self._found(scope, route, match.groupdict())
            return await route.handlers[method](request)
        if partial is None:
            raise HTTPException(status_code=404)
        # A path that has other methods: answered by the first route that matched it.
        match = partial.path_regex.match(path)
        assert match is not None
        self._found(scope, partial, match.groupdict())
        raise HTTPException(status_code=405, headers={"Allow": ", ".join(partial.methods or ())})

    @staticmethod
    def _found(scope: Scope, route: Resource, params: dict[str, Any]) -> None:
        for name, value in params.items():
            params[name] = route.param_convertors[name].convert(value)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params

    async def _error(self, request: Request, error: Exception, send: Send) -> Response | None:
        """The answer to `error` from its handler; None once a 500 is sent for an error no
        handler is named for, which the caller raises again."""
        for kind in type(error).__mro__:
            handler = self._handlers.get(kind)
            if handler is not None:
                response = await handler(request, error)
                # Reused exception instances would accumulate tracebacks across requests.
                error.__traceback__ = None
                return response
        response = await self._server_error(request, error)
        await response(request.scope, request.receive, send)
        return None
