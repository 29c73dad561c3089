"""What every portal page shares: the per-process portal state, the request's account and
session, rendering, cookies, forms, the security headers and the error page."""

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
from ..errors import ApiError, BodyTimeout
from ..identity.throttle import LoginSite, Throttles
from ..ratelimit import SharedCounters
from ..settings import Settings
from ..threads import Busy
from ..web.i18n import build_environments
from ..web.pages import secure
from ..web.sessions import Session, SessionSigner
from ..web.visits import PageVisit, error_page
from . import errors, service
from .errors import PortalError

log = logging.getLogger("fulfilment.portal")
HERE = Path(__file__).parent
COOKIE_PATH = "/portal"


class Portal(LoginSite):
    """What the portal keeps for the life of the process."""

    area = "portal"
    cookie_path = COOKIE_PATH

    def __init__(
        self, settings: Settings, database: Database, shared: SharedCounters | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.throttles = Throttles(settings, "portal", shared)
        secret = settings.portal_secret_key
        if secret is None:
            log.warning(
                "FULFILMENT_PORTAL_SECRET_KEY is not set: portal sessions end when this "
                "process stops and are not shared with other processes"
            )
        self.signer = SessionSigner(
            (secret or secrets.token_urlsafe(32)).encode(), settings.portal_session_seconds
        )
        self.environments = build_environments(HERE / "templates", "portal")


@dataclass(slots=True)
class Visit(PageVisit[Session]):
    """One request to one account's portal: the account, the session, and how to answer."""

    @property
    def portal(self) -> Portal:
        assert isinstance(self.site, Portal)
        return self.site

    def render(
        self, template: str, language: str, status: int = 200, **context: object
    ) -> HTMLResponse:
        """A page in `language`; the session (a new one if there is none) goes back with it."""
        return self.page(template, language, status, **context)


Handler = Callable[[Visit], Awaitable[Response]]


def portal_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Find the account and the session before `handler` runs; answer any PortalError it
    does not handle itself with an error page."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        portal: Portal = request.app.state.portal
        account: Account | None = None
        try:
            try:
                named = request.path_params.get("account")
                account = await service.find_portal_account(
                    portal.database, named, request.headers.get("host")
                )
                base = f"/portal/{account.subdomain}/" if named is not None else "/portal/"
                session = portal.signer.loads(request.cookies.get(portal.cookie(account)))
                response = await handler(Visit(request, portal, account, base, session))
            except BodyTimeout as error:
                raise errors.FormTooSlow() from error
            except Busy as error:
                # The password hashing has no room: say so rather than wait.
                raise errors.Unavailable() from error
            except ApiError as error:
                # The shared throttle store is down: say so, in a page.
                log.warning("portal: %s", error.message)
                raise errors.Unavailable() from error
            except portal.database.DatabaseError as error:
                log.exception("portal: database error")
                raise errors.Unavailable() from error
        except PortalError as error:
            response = error_page(request, portal, error, account)
        return secure(response, request)

    return endpoint
