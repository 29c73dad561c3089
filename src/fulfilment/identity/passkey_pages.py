"""The passkey pages, written once for both sites: a person's passkeys (listed, added,
removed), one made instead of the authenticator app on the set-up page of the second
factor, and logging in with one. The ceremonies are passkeys/ceremony.py's; a passkey
login ends in `login.proved`, as every factor does, and a passkey is both factors."""

from __future__ import annotations

from starlette.responses import Response

from ..web.errors import FormExpired, PageError
from ..web.i18n import N_
from ..web.pages import read_form
from ..web.passkey_script import options_answer
from ..web.sessions import csrf_matches
from . import login, pages
from .kinds import Person
from .pages import SitePages, Visit
from .passkeys import ceremony
from .passkeys.errors import PasskeyMissing, PasskeyRefused
from .passkeys.parties import Owner

NOTICES = {
    "passkey-added": N_("The passkey has been added."),
    "passkey-removed": N_("The passkey has been removed."),
}


def _owner(visit: Visit, site: SitePages, person: Person) -> Owner:
    return Owner(visit.account.id, site.kind.name, person.id, person.username or "")


async def _page(
    visit: Visit, site: SitePages, person: Person, status: int = 200, **context: object
) -> Response:
    owned = await ceremony.passkeys_of(visit.site.database, _owner(visit, site, person))
    notice = NOTICES.get(visit.request.query_params.get("notice", ""))
    return visit.page(
        "passkeys.html", person.language, status, passkeys=owned, notice=notice, **context
    )


async def _form(visit: Visit, site: SitePages) -> tuple[Person, dict[str, str]] | Response:
    """What the POSTed passkey forms share: the logged-in person and the form, its token
    checked."""
    found = await pages.current(visit, site)
    if not isinstance(found, Person):
        return found
    if visit.request.method == "GET":
        return visit.redirect("passkeys")
    form = await read_form(visit.request)
    if not csrf_matches(visit.session, form.get("csrf_token")):
        raise FormExpired()
    return found, form


async def manage(visit: Visit, site: SitePages) -> Response:
    """The person's passkeys (GET), and keeping the one the browser just made under the
    name typed (POST, from passkey.js)."""
    if visit.request.method == "GET":
        found = await pages.current(visit, site)
        return found if not isinstance(found, Person) else await _page(visit, site, found)
    checked = await _form(visit, site)
    if isinstance(checked, Response):
        return checked
    person, form = checked
    relying, session = visit.relying_party(), visit.session
    if relying is None or session is None:
        raise FormExpired()
    try:
        await ceremony.register(
            visit.site.database,
            relying,
            _owner(visit, site, person),
            session.csrf,
            form.get("passkey_name", ""),
            form.get("credential", ""),
        )
    except PageError as refused:
        return await _page(visit, site, person, refused.status, error=refused)
    return visit.redirect("passkeys?notice=passkey-added")


async def registration_options(visit: Visit, site: SitePages) -> Response:
    """The options for making a passkey (passkey.js asks for them)."""
    checked = await _form(visit, site)
    relying, session = visit.relying_party(), visit.session
    if isinstance(checked, Response) or relying is None or session is None:
        raise FormExpired()
    owner = _owner(visit, site, checked[0])
    database = visit.site.database
    return options_answer(
        await ceremony.registration_options(database, relying, owner, session.csrf)
    )


async def _enrolling(
    visit: Visit, site: SitePages
) -> tuple[Person, bool, dict[str, str]] | Response:
    """What the set-up page's passkey forms share: the person setting up a second factor,
    whether it is required (pages.enrolling), and the form, its token checked."""
    found = await pages.enrolling(visit, site)
    if isinstance(found, Response):
        return found
    if visit.request.method == "GET":
        return visit.redirect("enrol")
    form = await read_form(visit.request)
    if not csrf_matches(visit.session, form.get("csrf_token")):
        raise FormExpired()
    return *found, form


async def enrol_options(visit: Visit, site: SitePages) -> Response:
    """The options for making a passkey instead of the authenticator app (passkey.js asks
    for them on the set-up page)."""
    checked = await _enrolling(visit, site)
    relying, session = visit.relying_party(), visit.session
    if isinstance(checked, Response) or relying is None or session is None:
        raise FormExpired()
    owner = _owner(visit, site, checked[0])
    database = visit.site.database
    return options_answer(
        await ceremony.registration_options(database, relying, owner, session.csrf)
    )


async def enrol(visit: Visit, site: SitePages) -> Response:
    """Keep the passkey made on the set-up page instead of the authenticator app (POST,
    from passkey.js). A passkey is both factors, so it meets the account's requirement: a
    login waiting for its set-up is complete; a session already in goes on. A refused
    passkey changes nothing: the set-up page again, with the reason."""
    checked = await _enrolling(visit, site)
    if isinstance(checked, Response):
        return checked
    person, required, form = checked
    relying, session = visit.relying_party(), visit.session
    if relying is None or session is None:
        raise FormExpired()
    database, kind = visit.site.database, site.kind
    try:
        await ceremony.register(
            database,
            relying,
            _owner(visit, site, person),
            session.csrf,
            form.get("passkey_name", ""),
            form.get("credential", ""),
        )
    except PageError as refused:
        return await pages.enrol_page(visit, site, person, required, refused.status, error=refused)
    if session.logged_in:
        return visit.redirect("passkeys?notice=passkey-added")
    logged_in = await login.proved(database, kind, visit.account, person, "passkey")
    return pages.start(visit, logged_in, person.language)


async def remove(visit: Visit, site: SitePages) -> Response:
    """Remove one of the person's passkeys."""
    checked = await _form(visit, site)
    if isinstance(checked, Response):
        return checked
    number = visit.request.path_params["passkey"]
    owner = _owner(visit, site, checked[0])
    if not await ceremony.remove(visit.site.database, owner, number):
        raise PasskeyMissing()
    return visit.redirect("passkeys?notice=passkey-removed")


async def login_options(visit: Visit, site: SitePages) -> Response:
    """The options for logging in with any passkey of the account's people of the site's
    kind: none is named, so the browser offers those it holds (no username typed)."""
    form = await read_form(visit.request)
    relying, session = visit.relying_party(), visit.session
    if relying is None or session is None or not csrf_matches(session, form.get("csrf_token")):
        raise FormExpired()
    return options_answer(
        await ceremony.login_options(
            visit.site.database, relying, visit.account.id, site.kind, session.csrf
        )
    )


async def log_in(visit: Visit, site: SitePages) -> Response:
    """Log in with a passkey: both factors at once, so no code and no set-up follow."""
    if visit.request.method == "GET":
        return visit.redirect("login")
    form = await read_form(visit.request)
    language = visit.language()
    relying, session = visit.relying_party(), visit.session
    if relying is None or session is None or not csrf_matches(session, form.get("csrf_token")):
        visit.session = None
        expired = FormExpired()
        return visit.page("login.html", language, expired.status, error=expired, username="")
    database, kind = visit.site.database, site.kind
    try:
        person = await ceremony.authenticate(
            database, relying, visit.account.id, kind, session.csrf, form.get("credential", "")
        )
    except PasskeyRefused as refused:
        return visit.page("login.html", language, refused.status, error=refused, username="")
    logged_in = await login.proved(database, kind, visit.account, person, "passkey")
    return pages.start(visit, logged_in, session.language)
