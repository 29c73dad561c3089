"""The back office's settings page: the user's own second factor and passkeys, and (for
administrators) the account's settings; and logging in with a passkey."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ..accounts.service import AccountSettings, check_name, check_timezone, known_timezones
from ..errors import InvalidInput
from ..passkeys import ceremony
from ..passkeys.errors import PasskeyMissing, PasskeyRefused
from ..passkeys.parties import Person
from ..staff import service as staff
from ..web.errors import FormExpired, PageError
from ..web.i18n import N_
from ..web.pages import read_form
from ..web.passkey_pages import options_answer
from ..web.sessions import csrf_matches
from . import errors, manage, service
from .web import Visit, admin_page, checked_form

NOTICES = {
    "settings-saved": N_("The settings have been saved."),
    "passkey-added": N_("The passkey has been added."),
    "passkey-removed": N_("The passkey has been removed."),
}


def _person(visit: Visit) -> Person:
    user = visit.user
    assert user is not None
    return Person(visit.account.id, "staff", user.iduser, user.username, user.display_name)


async def _settings_page(visit: Visit, status: int = 200, **context: Any) -> Response:
    assert visit.user is not None
    account = visit.account
    context.setdefault(
        "form",
        {
            "name": account.name,
            "timezone": account.timezone,
            "require_second_factor": visit.user.requires_second_factor,
        },
    )
    context.setdefault("form_errors", {})
    context.setdefault("passkey_errors", {})
    left = await staff.recovery_codes_left(visit.database, visit.user.iduser)
    return visit.render(
        "settings.html",
        status,
        notice=NOTICES.get(visit.request.query_params.get("notice", "")),
        recovery_codes_left=left,
        timezones=known_timezones(),
        passkeys=await ceremony.passkeys_of(visit.database, _person(visit)),
        **context,
    )


SETTINGS_PROBLEMS = {
    "name": N_("Enter a name of at most 255 characters."),
    "timezone": N_("Choose a time zone from the list, such as Europe/Amsterdam."),
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
    )
    # Each field checked by the account's own rule, so that both errors show at once.
    problems: dict[str, str] = {}
    for field, check in (("name", check_name), ("timezone", check_timezone)):
        typed = form.get(field)
        try:
            if typed is not None:
                check(typed)
        except InvalidInput:
            problems[field] = SETTINGS_PROBLEMS[field]
    if not problems:
        try:
            await manage.change_settings(visit.database, visit.account, visit.user, changed)
        except InvalidInput as refused:
            field = "timezone" if refused.message.startswith("timezone") else "name"
            problems[field] = SETTINGS_PROBLEMS[field]
    if problems:
        values = {
            "name": form.get("name", ""),
            "timezone": form.get("timezone", ""),
            "require_second_factor": changed.require_second_factor,
        }
        return await _settings_page(visit, 400, form=values, form_errors=problems)
    return visit.redirect("settings?notice=settings-saved")


# -- passkeys -----------------------------------------------------------------------------


@admin_page()
async def registration_options(visit: Visit) -> Response:
    """The options for making a passkey (passkey.js asks for them)."""
    relying = visit.relying_party()
    if relying is None or visit.session is None or await checked_form(visit) is None:
        raise FormExpired()
    person = _person(visit)
    return options_answer(
        await ceremony.registration_options(visit.database, relying, person, visit.session.csrf)
    )


@admin_page()
async def add_passkey(visit: Visit) -> Response:
    """Keep the passkey the browser just made, under the name typed."""
    if visit.request.method == "GET":
        return visit.redirect("settings")
    relying = visit.relying_party()
    form = await checked_form(visit)
    if relying is None or visit.session is None or form is None:
        raise FormExpired()
    try:
        await ceremony.register(
            visit.database,
            relying,
            _person(visit),
            visit.session.csrf,
            form.get("passkey_name", ""),
            form.get("credential", ""),
        )
    except PageError as refused:
        shown = {"passkey_name": (refused.message, refused.values)}
        return await _settings_page(visit, refused.status, passkey_errors=shown)
    return visit.redirect("settings?notice=passkey-added#passkeys")


@admin_page()
async def remove_passkey(visit: Visit) -> Response:
    if visit.request.method == "GET":
        return visit.redirect("settings")
    if await checked_form(visit) is None:
        raise FormExpired()
    number = visit.request.path_params["passkey"]
    if not await ceremony.remove(visit.database, _person(visit), number):
        raise PasskeyMissing()
    return visit.redirect("settings?notice=passkey-removed#passkeys")


@admin_page(logged_in=False)
async def login_options(visit: Visit) -> Response:
    """The options for logging in with any passkey of the account's staff users."""
    relying = visit.relying_party()
    if relying is None or visit.session is None or await checked_form(visit) is None:
        raise FormExpired()
    return options_answer(
        await ceremony.login_options(
            visit.database, relying, visit.account.id, "staff", visit.session.csrf
        )
    )


@admin_page(logged_in=False)
async def passkey_login(visit: Visit) -> Response:
    """Log in with a passkey: both factors at once, so no code and no enrolment follow."""
    if visit.request.method == "GET":
        return visit.redirect("login")
    form = await read_form(visit.request)
    relying = visit.relying_party()
    session = visit.session
    if relying is None or session is None or not csrf_matches(session, form.get("csrf_token")):
        visit.session = None
        expired = FormExpired()
        return visit.render("login.html", expired.status, error=expired, username="")
    try:
        logged_in = await ceremony.authenticate(
            visit.database,
            relying,
            visit.account.id,
            "staff",
            session.csrf,
            form.get("credential", ""),
        )
    except PasskeyRefused as refused:
        return visit.render("login.html", refused.status, error=refused, username="")
    await service.record_login(visit.database, visit.account, logged_in.person.id)
    # A new session (and form token) at login: nothing from before it carries over.
    session = visit.new_session(
        session.language,
        account=visit.account.id,
        user=logged_in.person.id,
        version=logged_in.version,
        stage="in",
    )
    response = visit.redirect("")
    visit.keep(response, session)
    return response


def pages(prefix: str) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route(f"{prefix}/settings", settings, methods=both),
        Route(f"{prefix}/passkeys/options", registration_options, methods=["POST"]),
        Route(f"{prefix}/passkeys/add", add_passkey, methods=both),
        Route(f"{prefix}/passkeys/{{passkey:int}}/remove", remove_passkey, methods=both),
        Route(f"{prefix}/passkey/login-options", login_options, methods=["POST"]),
        Route(f"{prefix}/passkey/login", passkey_login, methods=both),
    ]
