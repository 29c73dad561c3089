"""HTTP routes of the portal: `/portal/...` on an account's own host, `/portal/{account}/...`
on any host. Every answer is an HTML page (or a redirect) with strict security headers.
Logging in and the mailed links are identity/'s pages, for customers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..fields import PASSWORD_MAX, PASSWORD_MIN
from ..identity import login, pages
from ..identity import routes as identity_routes
from ..identity.errors import SessionEnded, TooManyAttempts
from ..identity.kinds import CUSTOMER, Person
from ..web import passkey_script
from ..web.errors import FieldErrors, FormExpired, PageError
from ..web.i18n import N_
from ..web.pages import read_form, secure
from ..web.sessions import csrf_matches
from . import errors, service
from .web import HERE, Visit, portal_page

SITE = pages.SitePages(CUSTOMER, done="")
NOTICES = {**pages.NOTICES, "password-changed": N_("Your password has been changed.")}
STYLESHEET = (HERE / "portal.css").read_bytes()


def _identity_page(handler: identity_routes.Handler, logged_in: bool) -> identity_routes.Endpoint:
    """One of identity/'s pages, for the portal's customers. The kernel's pages check the
    session themselves (`logged_in` is the back office's redirect to its login)."""

    async def page(visit: Visit) -> Response:
        return await handler(visit, SITE)

    page.__doc__ = handler.__doc__
    return portal_page(page)


@portal_page
async def home(visit: Visit) -> Response:
    """The customer's own page."""
    found = await pages.current(visit, SITE)
    if not isinstance(found, Person):
        return found
    notice = NOTICES.get(visit.request.query_params.get("notice", ""))
    return await _customer_page(visit, found, notice=notice)


async def _customer_page(
    visit: Visit,
    person: Person,
    status: int = 200,
    notice: str | None = None,
    error: PageError | None = None,
    form_errors: dict[str, Any] | None = None,
) -> Response:
    customer = await service.customer_view(visit.portal.database, visit.account, person.id)
    return visit.render(
        "customer.html",
        customer.language,
        status,
        customer=customer,
        notice=notice,
        error=error,
        form_errors=form_errors or {},
        password_min=PASSWORD_MIN,
        password_max=PASSWORD_MAX,
    )


@portal_page
async def change_password(visit: Visit) -> Response:
    """Change the password: the current one, and the new one twice."""
    if visit.request.method == "GET":
        return visit.redirect("")
    found = await pages.current(visit, SITE)
    if not isinstance(found, Person):
        return found
    form = await read_form(visit.request)
    if not csrf_matches(visit.session, form.get("csrf_token")):
        return await _customer_page(visit, found, 400, error=FormExpired())
    try:
        version = await login.change_password(
            visit.portal.database,
            visit.portal.throttles.passwords,
            CUSTOMER,
            visit.account,
            found,
            form.get("current_password", ""),
            form.get("new_password", ""),
            form.get("new_password_again", ""),
            visit.address,
        )
    except SessionEnded:
        return pages.logged_out(visit, "ended")
    except FieldErrors as refused:
        return await _customer_page(visit, found, refused.status, form_errors=refused.shown())
    except PageError as error:
        page = await _customer_page(visit, found, error.status, error=error)
        if isinstance(error, TooManyAttempts):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    # This session goes on under the new credentials, with a new form token; every other
    # session of the customer has ended.
    session = visit.session
    assert session is not None
    renewed = visit.new_session(
        session.language, account=session.account, person=found.id, version=version, stage="in"
    )
    renewed.expires = session.expires
    response = visit.redirect("?notice=password-changed")
    visit.keep(response, renewed)
    return response


@portal_page
async def not_found(visit: Visit) -> Response:
    raise errors.PageNotFound()


async def stylesheet(request: Request) -> Response:
    response = Response(STYLESHEET, media_type="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return secure(response, request)


# identity/'s pages, made once: each is one endpoint under both addresses.


_identity_routes = identity_routes.for_site(_identity_page)


def _pages(prefix: str) -> list[Route]:
    return [
        Route(f"{prefix}/", home, methods=["GET"]),
        *_identity_routes(prefix),
        # GET (a typed or bookmarked address) leads back to the customer's page.
        Route(f"{prefix}/password", change_password, methods=["GET", "POST"]),
    ]


routes: list[Route] = [
    Route("/portal/portal.css", stylesheet, methods=["GET"]),
    Route("/portal/passkey.js", passkey_script.script, methods=["GET"]),
    *_pages("/portal"),
    *_pages("/portal/{account}"),
    Route("/portal/{account}/{rest:path}", not_found, methods=["GET", "POST"]),
]
