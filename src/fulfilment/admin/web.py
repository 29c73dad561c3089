"""What every back-office page shares: the per-process state, the request's account, staff
session and rendering, and the error page."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..accounts.service import Account
from ..db import Database
from ..errors import ApiError, BodyTimeout, NotFound
from ..identity import login
from ..identity.errors import SessionEnded
from ..identity.kinds import STAFF
from ..identity.throttle import LoginSite, Throttles
from ..ratelimit import SharedCounters
from ..settings import Settings
from ..threads import Busy
from ..web.errors import FormTooSlow, PageError
from ..web.i18n import build_environments
from ..web.pages import FORM_MAX_FIELDS, read_form, secure
from ..web.sessions import Session, SessionSigner, csrf_matches
from ..web.visits import PageVisit, error_page
from . import errors, service

log = logging.getLogger("fulfilment.admin")
HERE = Path(__file__).parent
COOKIE_PATH = "/admin"
AREA = "admin"


class BackOffice(LoginSite):
    """What the back office keeps for the life of the process."""

    area = AREA
    cookie_path = COOKIE_PATH

    def __init__(
        self, settings: Settings, database: Database, shared: SharedCounters | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.throttles = Throttles(settings, "admin", shared)
        # The portal's secret (the portal already warns when it is not set), under a salt
        # of its own: a portal cookie is no back-office cookie.
        secret = settings.portal_secret_key or secrets.token_urlsafe(32)
        self.signer = SessionSigner(
            secret.encode(),
            settings.portal_session_seconds,
            salt=b"fulfilment back office session cookie",
        )
        self.environments = build_environments(HERE / "templates", "admin")


@dataclass(slots=True)
class Visit(PageVisit[Session]):
    """One request to one account's back office."""

    user: service.StaffView | None = None

    @property
    def office(self) -> BackOffice:
        assert isinstance(self.site, BackOffice)
        return self.site

    @property
    def database(self) -> Database:
        return self.site.database

    def language(self, preferred: str | None = None) -> str:
        return PageVisit.language(self, preferred or (self.user.language if self.user else None))

    def extra(self) -> dict[str, object]:
        return {"user": self.user}

    def render(self, template: str, status: int = 200, **context: object) -> HTMLResponse:
        """A page in the `language` given, by default the visitor's; the session (a new one
        if there is none) goes back with it."""
        language = context.pop("language", None)
        if not isinstance(language, str) or not language:
            language = self.language()
        return self.page(template, language, status, **context)


Handler = Callable[[Visit], Awaitable[Response]]


async def checked_form(visit: Visit, max_fields: int = FORM_MAX_FIELDS) -> dict[str, str] | None:
    """The POSTed form when its token is this session's; None otherwise."""
    form = await read_form(visit.request, max_fields)
    return form if csrf_matches(visit.session, form.get("csrf_token")) else None


def admin_page(
    *, logged_in: bool = True, admins_only: bool = False
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Find the account and the session before the handler runs; with `logged_in`, a
    visitor who is not logged in is sent to the login form, and the staff user is loaded
    (a deactivated user, or one whose credentials changed, is logged out); with
    `admins_only`, anyone else but an administrator gets 403. A PageError the handler
    does not handle itself is answered with an error page."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            office: BackOffice = request.app.state.back_office
            account: Account | None = None
            response: Response
            try:
                try:
                    named = request.path_params.get("account")
                    account = await service.find_account(
                        office.database, named, request.headers.get("host")
                    )
                    base = f"/admin/{account.subdomain}/" if named is not None else "/admin/"
                    cookie = request.cookies.get(office.cookie(account))
                    session = office.signer.loads(cookie)
                    visit = Visit(request, office, account, base, session)
                    if logged_in:
                        if session is None or not session.logged_in:
                            return secure(visit.redirect("login"), request)
                        try:
                            person = await login.session_person(
                                office.database, STAFF, account, session
                            )
                        except SessionEnded:
                            ended = visit.redirect("login?notice=ended")
                            visit.keep(ended, visit.new_session(session.language))
                            return secure(ended, request)
                        if await login.must_enrol(office.database, STAFF, account, person):
                            # The account requires a second factor: open sessions too.
                            return secure(visit.redirect("enrol"), request)
                        visit.user = await service.staff_view(office.database, account, person)
                        if admins_only and not visit.user.admin:
                            raise errors.ForAdminsOnly()
                    response = await handler(visit)
                except BodyTimeout as error:
                    raise FormTooSlow() from error
                except Busy as error:
                    # The password hashing has no room: say so rather than wait.
                    raise errors.Unavailable() from error
                except NotFound as error:
                    raise errors.CustomerMissing() from error
                except ApiError as error:
                    # The shared throttle store or the database is away: say so, in a page.
                    log.warning("back office: %s", error.message)
                    raise errors.Unavailable() from error
                except office.database.DatabaseError as error:
                    log.exception("back office: database error")
                    raise errors.Unavailable() from error
            except PageError as error:
                response = error_page(request, office, error, account, user=None, notice=None)
            return secure(response, request)

        return endpoint

    return decorate
