"""A Python client of the fulfilment customers API, for this service and the hosted system
whose API it speaks. It needs only httpx and msgspec.

    from fulfilment.client import Client

    with Client("http://127.0.0.1:8000/api/v1/", api_key=key) as client:
        for customer in client.customers.list():
            print(customer.idfulfilment_customer, customer.name)

The `fulfilment customers` commands (`cli`) and their CSV import and export (`transfer`)
are built on it here; they need click and rich too, and import nothing of the server.
"""

from ._async import AsyncClient
from ._core import PAGE_SIZE, RetryPolicy
from ._errors import (
    ApiError,
    AuthenticationError,
    BadRequest,
    ClientError,
    ConnectionFailed,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    UnexpectedResponse,
)
from ._hook_models import (
    Hook,
    HookAttempt,
    HookCreate,
    HookDelivery,
    HookUpdate,
)
from ._models import (
    CUSTOMER_CHANGED,
    CUSTOMER_CREATED,
    EVENTS,
    UNSET,
    AuditActor,
    AuditEvent,
    Customer,
    CustomerCreate,
    CustomerFields,
    CustomerListItem,
    CustomerUpdate,
    ShippingProfile,
    ShippingProvider,
    Template,
    UnsetType,
    User,
    Warehouse,
)
from ._sync import Client

__all__ = [
    "CUSTOMER_CHANGED",
    "CUSTOMER_CREATED",
    "EVENTS",
    "PAGE_SIZE",
    "UNSET",
    "ApiError",
    "AsyncClient",
    "AuditActor",
    "AuditEvent",
    "AuthenticationError",
    "BadRequest",
    "Client",
    "ClientError",
    "ConnectionFailed",
    "Customer",
    "CustomerCreate",
    "CustomerFields",
    "CustomerListItem",
    "CustomerUpdate",
    "Forbidden",
    "Hook",
    "HookAttempt",
    "HookCreate",
    "HookDelivery",
    "HookUpdate",
    "NotFound",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "ShippingProfile",
    "ShippingProvider",
    "Template",
    "UnexpectedResponse",
    "UnsetType",
    "User",
    "Warehouse",
]
