"""What every back-office page shares: the per-process state, the request's account, staff
session and rendering, and the error page."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..accounts.service import Account
from ..db import Database
from ..errors import ApiError, BodyTimeout, NotFound
from ..fields import LANGUAGES
from ..ratelimit import SharedCounters
from ..settings import Settings
from ..web.errors import FormTooSlow, PageError
from ..web.i18n import build_environments, negotiate
from ..web.pages import secure
from ..web.sessions import Session, SessionSigner, cookie_name
from ..web.throttle import LoginThrottle
from . import errors, service

log = logging.getLogger("fulfilment.admin")
HERE = Path(__file__).parent
COOKIE_PATH = "/admin"
AREA = "admin"


class StaffSession(Session, kw_only=True, omit_defaults=True):
    """A back-office session. `stage`: "code" (password right, second factor to come),
    "enrol" (password right, the account requires a second factor this user has not set
    up yet) or "in" (logged in)."""

    user: int | None = None
    stage: str | None = None
    # The TOTP seed being set up, until a code from it confirms it.
    pending_secret: str | None = None

    @property
    def logged_in(self) -> bool:
        return self.user is not None and self.stage == "in"


class BackOffice:
    """What the back office keeps for the life of the process."""

    def __init__(
        self, settings: Settings, database: Database, shared: SharedCounters | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.throttle = LoginThrottle(settings, shared, namespace="fulfilment-admin-login")
        # The portal's secret (the portal already warns when it is not set), under a salt
        # of its own: a portal cookie is no back-office cookie.
        secret = settings.portal_secret_key or secrets.token_urlsafe(32)
        self.signer = SessionSigner(
            secret.encode(),
            settings.portal_session_seconds,
            salt=b"fulfilment back office session cookie",
            kind=StaffSession,
        )
        self.environments: dict[str, Environment] = build_environments(HERE / "templates")


@dataclass(slots=True)
class Visit:
    """One request to one account's back office."""

    request: Request
    office: BackOffice
    account: Account
    base: str
    session: StaffSession | None
    user: service.StaffView | None = None

    @property
    def database(self) -> Database:
        return self.office.database

    @property
    def address(self) -> str:
        return self.request.client.host if self.request.client else "unknown"

    def language(self, preferred: str | None = None) -> str:
        candidates = (preferred, self.user.language if self.user else None)
        for candidate in (*candidates, self.session.language if self.session else None):
            if candidate in LANGUAGES:
                return candidate
        return negotiate(self.request.headers.get("accept-language"))

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A page in the visitor's language; the session (a new one if there is none) goes
        back with it."""
        language = context.pop("language", None) or self.language()
        session = self.session or self.new_session(language)
        context.setdefault("notice", None)
        context.setdefault("error", None)
        page = self.office.environments[language].get_template(template)
        html = page.render(
            base=self.base,
            language=language,
            languages=LANGUAGES,
            account_name=self.account.name,
            csrf_token=session.csrf,
            user=self.user,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        self.keep(response, session)
        return response

    def redirect(self, path: str) -> RedirectResponse:
        # 303: the browser follows a form's POST with a GET.
        return RedirectResponse(self.base + path, status_code=303)

    def keep(self, response: Response, session: StaffSession) -> None:
        """Send `session` back as the cookie."""
        secure_cookie = (
            self.office.settings.portal_secure_cookies == "always"
            or self.request.url.scheme == "https"
        )
        response.set_cookie(
            cookie_name(self.account.id, AREA),
            self.office.signer.dumps(session),
            max_age=self.office.signer.seconds_left(session),
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=secure_cookie,
        )

    def new_session(self, language: str | None = None, **values: Any) -> StaffSession:
        session = self.office.signer.new(language)
        assert isinstance(session, StaffSession)
        for name, value in values.items():
            setattr(session, name, value)
        self.session = session
        return session


Handler = Callable[[Visit], Awaitable[Response]]


def _error_page(
    request: Request, office: BackOffice, error: PageError, account: Account | None
) -> Response:
    language = negotiate(request.headers.get("accept-language"))
    if account is not None:
        session = office.signer.loads(request.cookies.get(cookie_name(account.id, AREA)))
        if session is not None and session.language in LANGUAGES:
            language = session.language
    page = office.environments[language].get_template("error.html")
    html = page.render(language=language, error=error, account_name=None, user=None, notice=None)
    return HTMLResponse(html, status_code=error.status)


def admin_page(
    *, logged_in: bool = True
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Find the account and the session before the handler runs; with `logged_in`, a
    visitor who is not logged in is sent to the login form, and the staff user is loaded
    (a deactivated user, or one whose credentials changed, is logged out). Any PageError
    the handler does not handle itself is answered with an error page."""

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
                    cookie = request.cookies.get(cookie_name(account.id, AREA))
                    session = office.signer.loads(cookie)
                    assert session is None or isinstance(session, StaffSession)
                    visit = Visit(request, office, account, base, session)
                    if logged_in:
                        if session is None or not session.logged_in:
                            return secure(visit.redirect("login"), request)
                        try:
                            visit.user = await service.session_user(
                                office.database, account, session
                            )
                        except errors.SessionEnded:
                            ended = visit.redirect("login?notice=ended")
                            visit.keep(ended, visit.new_session(session.language))
                            return secure(ended, request)
                    response = await handler(visit)
                except BodyTimeout as error:
                    raise FormTooSlow() from error
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
                response = _error_page(request, office, error, account)
            return secure(response, request)

        return endpoint

    return decorate
