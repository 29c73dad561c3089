"""The customers pages of the back office: the list with its search, a customer's page
with its audit trail, the create and edit forms, and ending a customer's portal sessions.
Every change goes through the customers service, as the logged-in staff user."""

from __future__ import annotations

import msgspec
from starlette.responses import Response
from starlette.routing import Route

from ..customers.schemas import Customer
from ..errors import InvalidInput
from ..web.errors import FormExpired
from ..web.i18n import N_
from ..wire import MAX_SEARCH_LENGTH, PAGE_SIZE
from . import confirm, errors, once, service
from .forms import MAX_FIELDS, CustomerForm, create_body, update_body
from .web import Visit, admin_page, checked_form

NOTICES = {
    "saved": N_("The customer has been saved."),
    "sessions-ended": N_("The customer's portal sessions have ended."),
}


def _notice(visit: Visit) -> str | None:
    return NOTICES.get(visit.request.query_params.get("notice", ""))


def _offset(raw: str | None) -> int:
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw) - int(raw) % PAGE_SIZE
    return 0


@admin_page()
async def customers(visit: Visit) -> Response:
    """The customers, a page of 100 at a time, searched by name, username or address."""
    assert visit.user is not None
    search = visit.request.query_params.get("search", "").strip()
    search = search[:MAX_SEARCH_LENGTH].replace("\x00", "")
    offset = _offset(visit.request.query_params.get("offset"))
    found = await service.customer_page(
        visit.database, visit.account, visit.user, search or None, offset
    )
    total = await service.customer_total(visit.database, visit.account)
    return visit.render(
        "customers.html",
        customers=found,
        total=total,
        search=search,
        offset=offset,
        page_size=PAGE_SIZE,
        page_number=offset // PAGE_SIZE + 1,
        more=len(found) == PAGE_SIZE,
        notice=_notice(visit),
    )


def _customer_id(visit: Visit) -> int:
    raw: str = visit.request.path_params["idfulfilment_customer"]
    if raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) > 0:
        return int(raw)
    raise errors.CustomerMissing()


@admin_page()
async def customer(visit: Visit) -> Response:
    """Every field of a customer, by name, and its audit trail."""
    assert visit.user is not None
    customer_id = _customer_id(visit)
    found = await service.customer(visit.database, visit.account, visit.user, customer_id)
    token = visit.request.query_params.get("once")
    shown = await once.take(
        visit.database, visit.account, visit.user, "password", customer_id, token
    )
    password = shown["password"] if shown is not None else None
    return await _customer_page(visit, found, notice=_notice(visit), generated_password=password)


async def _customer_page(
    visit: Visit, found: Customer, status: int = 200, **context: object
) -> Response:
    assert visit.user is not None
    context.setdefault("generated_password", None)
    choices = await service.choices(visit.database, visit.account)
    events = await service.history(
        visit.database, visit.account, visit.user, found.idfulfilment_customer
    )
    return visit.render(
        "customer.html", status, customer=found, choices=choices, events=events, **context
    )


async def _form_page(
    visit: Visit, form: CustomerForm, customer_id: int | None, status: int = 200, **context: object
) -> Response:
    choices = await service.choices(visit.database, visit.account)
    return visit.render(
        "form.html", status, form=form, customer_id=customer_id, choices=choices, **context
    )


@admin_page()
async def new_customer(visit: Visit) -> Response:
    """The form for a new customer (GET), and creating it (POST)."""
    assert visit.user is not None
    if visit.request.method == "GET":
        return await _form_page(visit, CustomerForm(), None)
    return await _save(visit, None)


@admin_page()
async def edit_customer(visit: Visit) -> Response:
    """The form with a customer's fields (GET), and changing them (POST)."""
    assert visit.user is not None
    customer_id = _customer_id(visit)
    found = await service.customer(visit.database, visit.account, visit.user, customer_id)
    if visit.request.method == "GET":
        return await _form_page(visit, CustomerForm.of(found), customer_id, customer=found)
    return await _save(visit, customer_id)


async def _save(visit: Visit, customer_id: int | None) -> Response:
    assert visit.user is not None
    raw = await checked_form(visit, MAX_FIELDS)
    choices = await service.choices(visit.database, visit.account)
    if raw is None:
        return await _form_page(visit, CustomerForm(), customer_id, 400, error=FormExpired())
    form = CustomerForm.read(raw, choices)
    password = service.generated_password() if form.generate_password else (form.password or None)
    # An edit keeps the stored password unless a new one is given; the service knows
    # whether there is one, so only a create is checked here for "can log in".
    has_password = password is not None or customer_id is not None
    values = form.body(choices, password, has_password)
    username = str(form.values.get("username") or "")
    unchecked_username = values is None and "username" not in form.errors and username
    if unchecked_username and await service.username_taken(
        visit.database, visit.account, username, customer_id
    ):
        form.refuse_taken_username()
    if values is not None:
        try:
            if customer_id is None:
                saved = await service.create(
                    visit.database, visit.account, visit.user, create_body(values)
                )
            else:
                saved = await service.update(
                    visit.database, visit.account, visit.user, customer_id, update_body(values)
                )
        except InvalidInput as error:
            form.refused_by_service(error)
        except msgspec.ValidationError:
            form.errors.setdefault("name", (N_("This value cannot be used."), {}))
        else:
            saved_id = saved.idfulfilment_customer
            if form.generate_password and password is not None:
                # Shown once, on the page the redirect leads to; stored only as its hash.
                shown = {"password": password}
                token = await once.keep(
                    visit.database, visit.account, visit.user, "password", saved_id, shown
                )
                return visit.redirect(f"customers/{saved_id}?notice=saved&once={token}")
            return visit.redirect(f"customers/{saved_id}?notice=saved")
    form.password = ""
    return await _form_page(visit, form, customer_id, 400)


@admin_page()
async def end_sessions(visit: Visit) -> Response:
    """End the customer's portal sessions (a lost phone, a colleague who left)."""
    customer_id = _customer_id(visit)
    if visit.request.method == "GET":
        assert visit.user is not None
        found = await service.customer(visit.database, visit.account, visit.user, customer_id)
        named = confirm.about(confirm.END_PORTAL_SESSIONS, customer_id, found.name)
        return confirm.ask(visit, named)
    if await checked_form(visit) is None:
        raise FormExpired()
    await service.end_portal_sessions(visit.database, visit.account, customer_id)
    return visit.redirect(f"customers/{customer_id}?notice=sessions-ended")


def pages(prefix: str) -> list[Route]:
    both = ["GET", "POST"]
    one = f"{prefix}/customers/{{idfulfilment_customer}}"
    return [
        Route(f"{prefix}/customers", customers, methods=["GET"]),
        Route(f"{prefix}/customers/new", new_customer, methods=both),
        Route(one, customer, methods=["GET"]),
        Route(f"{one}/edit", edit_customer, methods=both),
        Route(f"{one}/end-sessions", end_sessions, methods=both),
    ]
