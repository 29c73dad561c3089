"""HTTP routes of the read-only users API: `/api/v1/users`, `/users/me`, `/users/{iduser}`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiContext, api_endpoint, resource
from ..wire import JsonResponse, parse_id, parse_offset
from . import service


@api_endpoint(full_access=True)
async def list_users(request: Request, api: ApiContext) -> Response:
    """A page of at most 100 staff users, by id; `active` filters."""
    active = service.parse_active(request.query_params.get("active"))
    return JsonResponse(
        await service.list_users(api.database, api.principal, parse_offset(request), active)
    )


@api_endpoint(full_access=True)
async def current_user(request: Request, api: ApiContext) -> Response:
    """The staff user who made the API key in use."""
    return JsonResponse(await service.key_creator(api.database, api.principal))


@api_endpoint(full_access=True)
async def get_user(request: Request, api: ApiContext) -> Response:
    """One staff user."""
    iduser = parse_id(request, "iduser")
    return JsonResponse(await service.get_user(api.database, api.principal, iduser))


routes = [
    resource("/users", get=list_users),
    # Before /users/{iduser}, which would read "me" as a path that is no id.
    resource("/users/me", get=current_user),
    resource("/users/{iduser}", get=get_user),
]
