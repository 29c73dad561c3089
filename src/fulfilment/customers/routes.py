"""HTTP routes of `/api/v1/fulfilment/customers`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiContext, api_endpoint, resource
from ..wire import JsonResponse, decode_body, parse_id, parse_offset, parse_search, read_body
from . import audit, service
from .schemas import CustomerCreate, CustomerUpdate


@api_endpoint(full_access=True)
async def list_customers(request: Request, api: ApiContext) -> Response:
    """A page of at most 100 customers, ordered by id; `search` filters."""
    customers = await service.list_customers(
        api.database, api.principal, parse_offset(request), parse_search(request)
    )
    return JsonResponse(customers)


@api_endpoint(full_access=True)
async def create_customer(request: Request, api: ApiContext) -> Response:
    """Create a customer from the body."""
    body = decode_body(await read_body(request, api.settings.max_body_bytes), CustomerCreate)
    return JsonResponse(await service.create_customer(api.database, api.principal, body))


@api_endpoint(full_access=True)
async def get_customer(request: Request, api: ApiContext) -> Response:
    """One customer."""
    customer_id = parse_id(request, "idfulfilment_customer")
    return JsonResponse(await service.get_customer(api.database, api.principal, customer_id))


@api_endpoint(full_access=True)
async def update_customer(request: Request, api: ApiContext) -> Response:
    """Change the fields the body holds; the others keep their value."""
    customer_id = parse_id(request, "idfulfilment_customer")
    body = decode_body(await read_body(request, api.settings.max_body_bytes), CustomerUpdate)
    return JsonResponse(
        await service.update_customer(api.database, api.principal, customer_id, body)
    )


@api_endpoint(full_access=True)
async def customer_history(request: Request, api: ApiContext) -> Response:
    """Who created and changed the customer, and who logged in as it, oldest first."""
    customer_id = parse_id(request, "idfulfilment_customer")
    return JsonResponse(
        await audit.history(api.database, api.principal, customer_id, parse_offset(request))
    )


routes = [
    resource("/fulfilment/customers", get=list_customers, post=create_customer),
    resource(
        "/fulfilment/customers/{idfulfilment_customer}", get=get_customer, put=update_customer
    ),
    resource("/fulfilment/customers/{idfulfilment_customer}/history", get=customer_history),
]
