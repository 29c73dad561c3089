# Generated from _async.py by scripts/unasync.py: do not edit. Change _async.py, then
# run `python scripts/unasync.py`.
"""`Client`: the client for blocking programs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx

from . import _core
from ._errors import ConnectionFailed
from ._hook_models import Hook, HookCreate, HookDelivery, HookUpdate
from ._models import (
    UNSET,
    AuditEvent,
    Customer,
    CustomerCreate,
    CustomerFields,
    CustomerListItem,
    CustomerUpdate,
    ShippingProvider,
    Template,
    UnsetType,
    User,
    Warehouse,
)

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """A client of the fulfilment customers API for blocking programs.

    Build it from the API's base URL (`http://127.0.0.1:8000/api/v1/`; a bare host gets
    `/api/v1/` added) or from an account name and the host its accounts live under
    (`account="acme", host="example.com"` is `https://acme.example.com/api/v1/`). Use it as
    a context manager, or call `close()`, to release its connections.

    `transport` replaces the network (an `httpx.MockTransport`, or a transport that talks to
    an app in process); `retry` says when requests are tried again (see `RetryPolicy`)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str,
        account: str | None = None,
        host: str | None = None,
        scheme: str = "https",
        timeout: float = _core.DEFAULT_TIMEOUT,
        retry: _core.RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = _core.USER_AGENT,
    ) -> None:
        self.base_url = _core.base_url(base_url, account, host, scheme)
        self.time_zone: str | None = None
        """The account's time zone (`Europe/Amsterdam`), which the answers' date-times are
        in, once an answer has named it (this service does; the hosted system does not)."""
        self.retry = retry or _core.RetryPolicy()
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(api_key, "X"),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )
        self.customers = Customers(self)
        self.warehouses = Warehouses(self)
        self.templates = Templates(self)
        self.shipping_providers = ShippingProviders(self)
        self.hooks = Hooks(self)
        self.users = Users(self)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def close(self) -> None:
        """Close the connections this client holds."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: bytes = b""
    ) -> httpx.Response:
        """Send one request (a path relative to the base URL), retrying as `retry` allows;
        return a 2xx answer or raise the matching `ApiError` or `ConnectionFailed`."""
        headers = {"Content-Type": "application/json"} if body else None
        limited = failed = 0
        while True:
            try:
                response = self._http.request(
                    method, path, params=params, content=body or None, headers=headers
                )
            except httpx.TransportError as error:
                wait = _core.network_wait(method, failed, self.retry)
                if wait is None:
                    raise ConnectionFailed(
                        f"{method} {self.base_url}{path} failed: {error or type(error).__name__}"
                    ) from error
                failed += 1
                _core.log_retry(method, path, type(error).__name__, wait)
                time.sleep(wait)
                continue
            if response.status_code == 429:
                wait = _core.rate_limit_wait(response, limited, self.retry)
                if wait is not None:
                    limited += 1
                    _core.log_retry(method, path, "rate limited", wait)
                    time.sleep(wait)
                    continue
            if response.is_success:
                self.time_zone = response.headers.get("x-time-zone", self.time_zone)
                return response
            raise _core.api_error(response)

    def _get(self, path: str, kind: type[T], params: dict[str, Any] | None = None) -> T:
        return _core.decode(self.request("GET", path, params=params), kind)

    def _pages(
        self, path: str, kind: type[list[T]], offset: int, **filters: str | None
    ) -> Iterator[T]:
        while True:
            page = self._get(path, kind, _core.page_params(offset, **filters))
            yield from page
            if len(page) < _core.PAGE_SIZE:
                return
            offset += _core.PAGE_SIZE


class Customers:
    """`client.customers`: the fulfilment customers of the key's account."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, *, search: str | None = None, offset: int = 0) -> Iterator[CustomerListItem]:
        """Every customer from `offset` on, by id, fetching pages of 100 as you iterate.

        `search` keeps those whose name, username or e-mail address contains it."""
        return self._client._pages(_core.CUSTOMERS, list[CustomerListItem], offset, search=search)

    def get(self, idfulfilment_customer: int) -> Customer:
        """One customer; `NotFound` if the account has none with this id."""
        return self._client._get(f"{_core.CUSTOMERS}/{int(idfulfilment_customer)}", Customer)

    def create(
        self, customer: CustomerCreate | None = None, /, **fields: Unpack[CustomerFields]
    ) -> Customer:
        """Create a customer from a `CustomerCreate` or from keyword arguments."""
        body = customer if customer is not None else CustomerCreate(**fields)
        response = self._client.request("POST", _core.CUSTOMERS, body=_core.encode(body))
        return _core.decode(response, Customer)

    def update(
        self,
        idfulfilment_customer: int,
        changes: CustomerUpdate | None = None,
        /,
        **fields: Unpack[CustomerFields],
    ) -> Customer:
        """Change the fields given (a `CustomerUpdate` or keyword arguments); the others
        keep their value. Returns the customer as it is now."""
        body = changes if changes is not None else CustomerUpdate(**fields)
        path = f"{_core.CUSTOMERS}/{int(idfulfilment_customer)}"
        return _core.decode(self._client.request("PUT", path, body=_core.encode(body)), Customer)

    def history(self, idfulfilment_customer: int, *, offset: int = 0) -> Iterator[AuditEvent]:
        """The customer's audit trail, oldest first: every create, update and portal
        login, who did it and which fields changed. `NotFound` for an unknown id."""
        path = f"{_core.CUSTOMERS}/{int(idfulfilment_customer)}/history"
        return self._client._pages(path, list[AuditEvent], offset)


class Warehouses:
    """`client.warehouses` (read-only)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> Iterator[Warehouse]:
        """Every warehouse, page by page."""
        return self._client._pages("warehouses", list[Warehouse], 0)

    def get(self, idwarehouse: int) -> Warehouse:
        """One warehouse; `NotFound` if there is none with this id."""
        return self._client._get(f"warehouses/{int(idwarehouse)}", Warehouse)


class Templates:
    """`client.templates` (read-only)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> Iterator[Template]:
        """Every template, page by page."""
        return self._client._pages("templates", list[Template], 0)


class ShippingProviders:
    """`client.shipping_providers` (read-only)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> Iterator[ShippingProvider]:
        """Every shipping provider with its profiles, page by page."""
        return self._client._pages("shippingproviders", list[ShippingProvider], 0)


class Hooks:
    """`client.hooks`: webhooks, deliveries of the account's events to an address."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, *, offset: int = 0) -> Iterator[Hook]:
        """Every hook from `offset` on, active or not, by id."""
        return self._client._pages(_core.HOOKS, list[Hook], offset)

    def get(self, idhook: int) -> Hook:
        """One hook; `NotFound` if the account has none with this id."""
        return self._client._get(f"{_core.HOOKS}/{int(idhook)}", Hook)

    def create(self, name: str, event: str, address: str, secret: str | None = None) -> Hook:
        """Subscribe `address` to `event` (`fulfilment_customers.created` or `.changed`);
        with a `secret`, every delivery is signed with it."""
        body = _core.encode(HookCreate(name=name, event=event, address=address, secret=secret))
        return _core.decode(self._client.request("POST", _core.HOOKS, body=body), Hook)

    def update(
        self,
        idhook: int,
        *,
        name: str | UnsetType = UNSET,
        address: str | UnsetType = UNSET,
        secret: str | UnsetType | None = UNSET,
    ) -> Hook:
        """Change the name, address or secret (None removes the secret)."""
        body = _core.encode(HookUpdate(name=name, address=address, secret=secret))
        path = f"{_core.HOOKS}/{int(idhook)}"
        return _core.decode(self._client.request("PUT", path, body=body), Hook)

    def delete(self, idhook: int) -> Hook:
        """Deactivate the hook (it stays readable, and can be reactivated)."""
        path = f"{_core.HOOKS}/{int(idhook)}"
        return _core.decode(self._client.request("DELETE", path), Hook)

    def reactivate(self, idhook: int) -> Hook:
        """Activate the hook again; deliveries that waited resume."""
        path = f"{_core.HOOKS}/{int(idhook)}/reactivate"
        return _core.decode(self._client.request("POST", path), Hook)

    def test(self, idhook: int) -> Hook:
        """Send the event `ping` (data `{}`) to the hook."""
        path = f"{_core.HOOKS}/{int(idhook)}/test"
        return _core.decode(self._client.request("POST", path), Hook)

    def deliveries(self, idhook: int, *, offset: int = 0) -> Iterator[HookDelivery]:
        """The hook's deliveries, newest first, each with its attempts."""
        path = f"{_core.HOOKS}/{int(idhook)}/deliveries"
        return self._client._pages(path, list[HookDelivery], offset)


class Users:
    """`client.users`: the account's staff users, the people of the back office (read-only)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, *, active: bool | None = None, offset: int = 0) -> Iterator[User]:
        """Every staff user from `offset` on, by id; `active=True` or `False` keeps only
        the active or the inactive ones."""
        shown = None if active is None else ("true" if active else "false")
        return self._client._pages(_core.USERS, list[User], offset, active=shown)

    def get(self, iduser: int) -> User:
        """One staff user; `NotFound` if the account has none with this id."""
        return self._client._get(f"{_core.USERS}/{int(iduser)}", User)

    def me(self) -> User:
        """The staff user who made the API key in use; `NotFound` for a key made on the
        command line."""
        return self._client._get(f"{_core.USERS}/me", User)
