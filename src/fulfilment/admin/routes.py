"""HTTP routes of the back office: `/admin/...` on an account's own host, `/admin/{account}/...`
on any host. Every answer is an HTML page (or a redirect) with strict security headers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..accounts.service import AccountSettings, check_timezone, known_timezones
from ..errors import InvalidInput
from ..fields import DisplayNameProblem, display_name_problem
from ..identity import factors, login, pages
from ..identity import routes as identity_routes
from ..identity.kinds import STAFF
from ..web import passkey_script
from ..web.errors import FormExpired, PageNotFound
from ..web.i18n import N_
from ..web.pages import secure
from . import (
    customer_routes,
    errors,
    hooks_routes,
    manage,
    manage_routes,
)
from .web import HERE, Visit, admin_page, checked_form

SITE = pages.SitePages(STAFF, done="settings")
NOTICES = {**pages.NOTICES, "settings-saved": N_("The settings have been saved.")}
STYLESHEET = (HERE / "admin.css").read_bytes()


def _notice(visit: Visit) -> str | None:
    return NOTICES.get(visit.request.query_params.get("notice", ""))


# -- logging in ---------------------------------------------------------------------------


def _identity_page(handler: identity_routes.Handler, logged_in: bool) -> identity_routes.Endpoint:
    """One of identity/'s pages, for the back office's staff users."""

    async def page(visit: Visit) -> Response:
        return await handler(visit, SITE)

    page.__doc__ = handler.__doc__
    return admin_page(logged_in=logged_in)(page)


# -- customers ----------------------------------------------------------------------------


@admin_page()
async def home(visit: Visit) -> Response:
    return visit.redirect("customers")


# -- settings -----------------------------------------------------------------------------


async def _settings_page(visit: Visit, status: int = 200, **context: object) -> Response:
    assert visit.user is not None
    account = visit.account
    context.setdefault(
        "form",
        {
            "name": account.name,
            "timezone": account.timezone,
            "require_second_factor": visit.user.requires_second_factor,
            "require_portal_second_factor": visit.user.requires_portal_second_factor,
        },
    )
    context.setdefault("form_errors", {})
    person = await login.session_person(visit.database, STAFF, account, visit.session)
    left = await factors.codes_left(visit.database, STAFF, person)
    return visit.render(
        "settings.html",
        status,
        notice=_notice(visit),
        recovery_codes_left=left,
        timezones=known_timezones(),
        **context,
    )


SETTINGS_PROBLEMS = {
    "name": N_("Enter a name of at most 255 characters."),
    "timezone": N_("Choose a time zone from the list, such as Europe/Amsterdam."),
}
# Why a name mails cannot carry was refused, in words for the person who typed it.
NAME_PROBLEMS: dict[DisplayNameProblem, str] = {
    "length": SETTINGS_PROBLEMS["name"],
    "characters": N_(
        "The name may not contain line breaks, tabs or other control or invisible characters."
    ),
    "encoded": N_("The name may not contain =? (mail programs read it as encoded text)."),
}


@admin_page()
async def settings(visit: Visit) -> Response:
    """The user's own second factor, and (administrators) the account's name, time zone
    and rule for the second factor."""
    assert visit.user is not None
    if visit.request.method == "GET":
        return await _settings_page(visit)
    if not visit.user.admin:
        raise errors.AdminsOnly()
    form = await checked_form(visit)
    if form is None:
        raise FormExpired()
    # A field left out keeps its value; the form sends them all.
    changed = AccountSettings(
        name=form.get("name"),
        timezone=form.get("timezone"),
        require_second_factor=form.get("require_second_factor") == "1",
        require_portal_second_factor=form.get("require_portal_second_factor") == "1",
    )
    # Each field checked by the account's own rule, so that both errors show at once.
    problems: dict[str, str] = {}
    if changed.name is not None:
        name_problem = display_name_problem(changed.name)
        if name_problem is not None:
            problems["name"] = NAME_PROBLEMS[name_problem]
    if changed.timezone is not None:
        try:
            check_timezone(changed.timezone)
        except InvalidInput:
            problems["timezone"] = SETTINGS_PROBLEMS["timezone"]
    if not problems:
        await manage.change_settings(visit.database, visit.account, visit.user, changed)
    if problems:
        values = {
            "name": form.get("name", ""),
            "timezone": form.get("timezone", ""),
            "require_second_factor": changed.require_second_factor,
            "require_portal_second_factor": changed.require_portal_second_factor,
        }
        return await _settings_page(visit, 400, form=values, form_errors=problems)
    return visit.redirect("settings?notice=settings-saved")


@admin_page(logged_in=False)
async def not_found(visit: Visit) -> Response:
    raise PageNotFound()


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
        Route(f"{prefix}/settings", settings, methods=["GET", "POST"]),
        *customer_routes.pages(prefix),
    ]


routes: list[Route] = [
    Route("/admin/admin.css", stylesheet, methods=["GET"]),
    Route("/admin/passkey.js", passkey_script.script, methods=["GET"]),
    *_pages("/admin"),
    *manage_routes.pages("/admin"),
    *hooks_routes.pages("/admin"),
    *_pages("/admin/{account}"),
    *manage_routes.pages("/admin/{account}"),
    *hooks_routes.pages("/admin/{account}"),
    Route("/admin/{account}/{rest:path}", not_found, methods=["GET", "POST"]),
]
