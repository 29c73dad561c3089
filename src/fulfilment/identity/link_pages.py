"""The pages of links mailed to a person, written once for both sites: asking for a
forgotten password, choosing a password from a link (a reset or an invitation), and
changing the e-mail address. Every form ends with a redirect to a GET."""

from __future__ import annotations

from starlette.responses import Response

from ..fields import EMAIL_MAX, PASSWORD_MAX, PASSWORD_MIN
from ..web.errors import FieldErrors, FormExpired, PageError
from ..web.pages import read_form
from ..web.sessions import csrf_matches
from . import forgot, links
from .errors import LinkUnusable, TooManyAttempts, TooManyRequests
from .kinds import Person
from .pages import SitePages, Visit, current, mailer_of, with_retry_after
from .throttle import throttles_of


async def ask_reset(visit: Visit, site: SitePages) -> Response:
    """Ask for a link to choose a new password (GET: the form)."""
    if visit.request.method == "GET":
        language = visit.language(visit.request.query_params.get("lang"))
        sent = visit.request.query_params.get("sent") == "1"
        return visit.page("forgot.html", language, 200, identifier="", sent=sent)
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    identifier = form.get("identifier", "")
    refused: PageError
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        refused = FormExpired()
    else:
        try:
            await forgot.ask(
                visit.site.database,
                mailer_of(visit),
                site.kind,
                visit.account,
                identifier,
                visit.address,
                str(visit.request.base_url),
            )
        except TooManyRequests as too_many:
            refused = too_many
        else:
            # The same answer whether or not the name is known.
            return visit.redirect(f"forgot?lang={language}&sent=1")
    page = visit.page(
        "forgot.html", language, refused.status, error=refused, identifier=identifier, sent=False
    )
    return with_retry_after(page, refused)


def _unusable(visit: Visit, language: str, error: PageError, again: bool) -> Response:
    return visit.page("link_unusable.html", language, error.status, error=error, again=again)


def _password_form(
    visit: Visit,
    language: str,
    token: str,
    purpose: str,
    error: PageError | None = None,
    **context: object,
) -> Response:
    status = 400 if context.get("form_errors") else error.status if error is not None else 200
    return visit.page(
        "reset.html",
        language,
        status,
        token=token,
        invitation=purpose == "invitation",
        purpose=purpose,
        password_min=PASSWORD_MIN,
        password_max=PASSWORD_MAX,
        error=error,
        **context,
    )


async def reset(visit: Visit, site: SitePages) -> Response:
    """Choose a password from a link (GET: the form, while the link is good)."""
    database, kind, account = visit.site.database, site.kind, visit.account
    if visit.request.method == "GET":
        token = visit.request.query_params.get("token", "")
        language = visit.language(visit.request.query_params.get("lang"))
        try:
            purpose = await links.check_password_link(database, kind, account, token)
        except LinkUnusable as error:
            return _unusable(visit, language, error, again=True)
        return _password_form(visit, language, token, purpose)
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    token = form.get("token", "")
    purpose = form.get("purpose", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        return _password_form(visit, language, token, purpose, error=FormExpired())
    try:
        await links.set_password(
            database,
            kind,
            account,
            token,
            form.get("new_password", ""),
            form.get("new_password_again", ""),
        )
    except LinkUnusable as error:
        return _unusable(visit, language, error, again=True)
    except FieldErrors as refused:
        return _password_form(visit, language, token, purpose, form_errors=refused.shown())
    # Whoever was logged in here is not any more: the person's sessions have all ended.
    response = visit.redirect("login?notice=password-set")
    visit.keep(response, visit.new_session(language))
    return response


async def change_email(visit: Visit, site: SitePages) -> Response:
    """Change one's e-mail address (GET: the form): a link goes to the new address."""
    found = await current(visit, site)
    if not isinstance(found, Person):
        return found
    person = found
    page: dict[str, object] = {
        "person": person,
        "email_max": EMAIL_MAX,
        "password_max": PASSWORD_MAX,
    }
    if visit.request.method == "GET":
        sent = visit.request.query_params.get("sent") == "1"
        return visit.page("email.html", person.language, 200, new_address="", sent=sent, **page)
    form = await read_form(visit.request)
    new_address = form.get("new_address", "")
    refused: PageError
    if not csrf_matches(visit.session, form.get("csrf_token")):
        refused = FormExpired()
    else:
        try:
            await links.ask_email_change(
                visit.site.database,
                mailer_of(visit),
                throttles_of(visit).passwords,
                site.kind,
                visit.account,
                person,
                form.get("current_password", ""),
                new_address,
                visit.address,
                str(visit.request.base_url),
            )
        except FieldErrors as problems:
            return visit.page(
                "email.html",
                person.language,
                problems.status,
                new_address=new_address,
                sent=False,
                form_errors=problems.shown(),
                **page,
            )
        except (TooManyAttempts, TooManyRequests) as too_many:
            refused = too_many
        else:
            return visit.redirect("email?sent=1")
    answer = visit.page(
        "email.html",
        person.language,
        refused.status,
        error=refused,
        new_address=new_address,
        sent=False,
        **page,
    )
    return with_retry_after(answer, refused)


async def confirm_email(visit: Visit, site: SitePages) -> Response:
    """Confirm a new e-mail address from the link mailed to it. The link opens a page with
    a button: a mail program that fetches links to look at them changes nothing."""
    database, kind, account = visit.site.database, site.kind, visit.account
    if visit.request.method == "GET":
        token = visit.request.query_params.get("token", "")
        language = visit.language(visit.request.query_params.get("lang"))
        try:
            address = await links.check_email_link(database, kind, account, token)
        except LinkUnusable as error:
            return _unusable(visit, language, error, again=False)
        return visit.page("email_confirm.html", language, 200, token=token, address=address)
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        return _unusable(visit, language, FormExpired(), again=False)
    try:
        await links.confirm_email(database, mailer_of(visit), kind, account, form.get("token", ""))
    except LinkUnusable as error:
        return _unusable(visit, language, error, again=False)
    # A new address is a change of credentials: the person's sessions have ended.
    response = visit.redirect(f"login?lang={language}&notice=email-changed")
    visit.keep(response, visit.new_session(language))
    return response
