"""HTTP routes of the read-only reference data."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiContext, api_endpoint, resource
from ..wire import JsonResponse, parse_id, parse_offset
from . import service


@api_endpoint(full_access=False)
async def list_warehouses(request: Request, api: ApiContext) -> Response:
    """A page of warehouses."""
    return JsonResponse(
        await service.list_warehouses(api.database, api.principal, parse_offset(request))
    )


@api_endpoint(full_access=False)
async def get_warehouse(request: Request, api: ApiContext) -> Response:
    """One warehouse."""
    warehouse_id = parse_id(request, "idwarehouse")
    return JsonResponse(await service.get_warehouse(api.database, api.principal, warehouse_id))


@api_endpoint(full_access=False)
async def list_templates(request: Request, api: ApiContext) -> Response:
    """A page of templates."""
    return JsonResponse(
        await service.list_templates(api.database, api.principal, parse_offset(request))
    )


@api_endpoint(full_access=False)
async def list_shipping_providers(request: Request, api: ApiContext) -> Response:
    """A page of shipping providers with their profiles."""
    return JsonResponse(
        await service.list_shipping_providers(api.database, api.principal, parse_offset(request))
    )


routes = [
    resource("/warehouses", get=list_warehouses),
    resource("/warehouses/{idwarehouse}", get=get_warehouse),
    resource("/templates", get=list_templates),
    resource("/shippingproviders", get=list_shipping_providers),
]
