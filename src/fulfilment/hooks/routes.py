"""HTTP routes of `/api/v1/hooks`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiContext, api_endpoint, resource
from ..encryption import box_for
from ..wire import JsonResponse, decode_body, parse_id, parse_offset, read_body
from . import service
from .schemas import HookCreate, HookUpdate


@api_endpoint(full_access=True)
async def list_hooks(request: Request, api: ApiContext) -> Response:
    """A page of at most 100 hooks, ordered by id."""
    return JsonResponse(
        await service.list_hooks(api.database, api.principal, parse_offset(request))
    )


@api_endpoint(full_access=True)
async def create_hook(request: Request, api: ApiContext) -> Response:
    """Create a hook from the body."""
    body = decode_body(await read_body(request, api.settings.max_body_bytes), HookCreate)
    return JsonResponse(
        await service.create_hook(api.database, api.principal, body, box_for(api.database))
    )


@api_endpoint(full_access=True)
async def get_hook(request: Request, api: ApiContext) -> Response:
    """One hook."""
    idhook = parse_id(request, "idhook")
    return JsonResponse(await service.get_hook(api.database, api.principal, idhook))


@api_endpoint(full_access=True)
async def update_hook(request: Request, api: ApiContext) -> Response:
    """Change the name, address or secret."""
    idhook = parse_id(request, "idhook")
    body = decode_body(await read_body(request, api.settings.max_body_bytes), HookUpdate)
    return JsonResponse(
        await service.update_hook(api.database, api.principal, idhook, body, box_for(api.database))
    )


@api_endpoint(full_access=True)
async def delete_hook(request: Request, api: ApiContext) -> Response:
    """Deactivate the hook; it stays readable."""
    idhook = parse_id(request, "idhook")
    return JsonResponse(await service.set_active(api.database, api.principal, idhook, False))


@api_endpoint(full_access=True)
async def reactivate_hook(request: Request, api: ApiContext) -> Response:
    """Activate the hook again."""
    idhook = parse_id(request, "idhook")
    return JsonResponse(await service.set_active(api.database, api.principal, idhook, True))


@api_endpoint(full_access=True)
async def test_hook(request: Request, api: ApiContext) -> Response:
    """Send the event `ping` to the hook."""
    idhook = parse_id(request, "idhook")
    return JsonResponse(await service.test_hook(api.database, api.principal, idhook))


@api_endpoint(full_access=True)
async def hook_deliveries(request: Request, api: ApiContext) -> Response:
    """The hook's deliveries, newest first, with every attempt."""
    idhook = parse_id(request, "idhook")
    return JsonResponse(
        await service.deliveries(api.database, api.principal, idhook, parse_offset(request))
    )


routes = [
    resource("/hooks", get=list_hooks, post=create_hook),
    resource("/hooks/{idhook}", get=get_hook, put=update_hook, delete=delete_hook),
    resource("/hooks/{idhook}/reactivate", post=reactivate_hook),
    resource("/hooks/{idhook}/test", post=test_hook),
    resource("/hooks/{idhook}/deliveries", get=hook_deliveries),
]
