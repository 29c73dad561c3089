"""HTTP routes of the portal: `/portal/...` on an account's own host, `/portal/{account}/...`
on any host. Every answer is an HTML page (or a redirect) with strict security headers."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from ..accounts.service import Account
from ..db import Database
from ..errors import ApiError
from ..settings import Settings
from . import service
from .i18n import HERE, LANGUAGES, N_, build_environments, negotiate
from .service import PortalError, SessionEnded
from .sessions import COOKIE_NAME, COOKIE_PATH, Session, SessionSigner, csrf_matches
from .throttle import LoginThrottle

log = logging.getLogger("fulfilment.portal")

FORM_LIMIT_BYTES = 16 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
NOTICES = {
    "logged-out": N_("You have been logged out."),
    "ended": SessionEnded.message,
    "password-changed": N_("Your password has been changed."),
}
STYLESHEET = (HERE / "portal.css").read_bytes()


class Portal:
    """What the portal keeps for the life of the process."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.throttle = LoginThrottle(settings)
        secret = settings.portal_secret_key
        if secret is None:
            log.warning(
                "FULFILMENT_PORTAL_SECRET_KEY is not set: portal sessions end when this "
                "process stops and are not shared with other processes"
            )
        self.signer = SessionSigner(
            (secret or secrets.token_urlsafe(32)).encode(), settings.portal_session_seconds
        )
        self.environments: dict[str, Environment] = build_environments()


@dataclass(slots=True)
class Visit:
    """One request to one account's portal: the account, the session, and how to answer."""

    request: Request
    portal: Portal
    account: Account
    base: str
    session: Session | None

    @property
    def address(self) -> str:
        return self.request.client.host if self.request.client else "unknown"

    def language(self, preferred: str | None = None) -> str:
        for candidate in (preferred, self.session.language if self.session else None):
            if candidate in LANGUAGES:
                return candidate
        return negotiate(self.request.headers.get("accept-language"))

    def render(
        self, template: str, language: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """A page in `language`; the session (a new one if there is none) goes back with it."""
        session = self.session or self.new_session(language)
        context.setdefault("notice", None)
        context.setdefault("error", None)
        page = self.portal.environments[language].get_template(template)
        html = page.render(
            base=self.base,
            language=language,
            languages=LANGUAGES,
            account_name=self.account.name,
            csrf_token=session.csrf,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        self.keep(response, session)
        return response

    def redirect(self, path: str) -> RedirectResponse:
        # 303: the browser follows a form's POST with a GET.
        return RedirectResponse(self.base + path, status_code=303)

    def keep(self, response: Response, session: Session) -> None:
        """Send `session` back as the cookie."""
        secure = (
            self.portal.settings.portal_secure_cookies == "always"
            or self.request.url.scheme == "https"
        )
        response.set_cookie(
            COOKIE_NAME,
            self.portal.signer.dumps(session),
            max_age=self.portal.signer.seconds_left(session),
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=secure,
        )

    def new_session(self, language: str | None = None, **values: Any) -> Session:
        session = self.portal.signer.new(language)
        for name, value in values.items():
            setattr(session, name, value)
        self.session = session
        return session


Handler = Callable[[Visit], Awaitable[Response]]


def _secure(response: Response, request: Request) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Cache-Control", "no-store")
    if request.url.scheme == "https":
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def _error_page(request: Request, portal: Portal, error: PortalError) -> Response:
    language = negotiate(request.headers.get("accept-language"))
    session = portal.signer.loads(request.cookies.get(COOKIE_NAME))
    if session is not None and session.language in LANGUAGES:
        language = session.language
    page = portal.environments[language].get_template("error.html")
    html = page.render(language=language, error=error, account_name=None)
    return HTMLResponse(html, status_code=error.status)


def portal_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Find the account and the session before `handler` runs; answer any PortalError it
    does not handle itself with an error page."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        portal: Portal = request.app.state.portal
        try:
            try:
                named = request.path_params.get("account")
                account = service.find_portal_account(
                    portal.database, named, request.headers.get("host")
                )
                base = f"/portal/{account.subdomain}/" if named is not None else "/portal/"
                session = portal.signer.loads(request.cookies.get(COOKIE_NAME))
                response = await handler(Visit(request, portal, account, base, session))
            except ApiError as error:
                # The shared throttle store is down: say so, in a page.
                log.warning("portal: %s", error.message)
                raise service.Unavailable() from error
            except portal.database.DatabaseError as error:
                log.exception("portal: database error")
                raise service.Unavailable() from error
        except PortalError as error:
            response = _error_page(request, portal, error)
        return _secure(response, request)

    return endpoint


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form, the first value of each field."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        raise service.FormUnreadable()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT_BYTES:
            raise service.FormUnreadable()
    try:
        fields = parse_qs(
            body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError):
        raise service.FormUnreadable() from None
    return {name: values[0] for name, values in fields.items()}


# -- pages --------------------------------------------------------------------------------


@portal_page
async def login(visit: Visit) -> Response:
    """The login form (GET) and logging in (POST)."""
    if visit.request.method == "POST":
        return await _log_in(visit)
    chosen = visit.request.query_params.get("lang")
    chosen = chosen if chosen in LANGUAGES else None
    session = visit.session
    if session is not None and session.logged_in:
        try:
            service.current_customer(visit.portal.database, visit.account, session)
            return visit.redirect("")
        except SessionEnded:
            session = visit.new_session(session.language)
    if session is not None and chosen is not None:
        session.language = chosen
    language = visit.language(chosen)
    notice = NOTICES.get(visit.request.query_params.get("notice", ""))
    return visit.render("login.html", language, notice=notice, username="")


async def _log_in(visit: Visit) -> Response:
    form = await read_form(visit.request)
    language = visit.language(form.get("language"))
    username = form.get("username", "")
    if not csrf_matches(visit.session, form.get("csrf_token")):
        visit.session = None
        error: PortalError = service.FormExpired()
        return visit.render("login.html", language, error.status, error=error, username=username)
    try:
        logged_in = await service.log_in(
            visit.portal.database,
            visit.portal.throttle,
            visit.account,
            username,
            form.get("password", ""),
            visit.address,
        )
    except (service.LoginRefused, service.TooManyAttempts) as refused:
        page = visit.render(
            "login.html", language, refused.status, error=refused, username=username
        )
        if isinstance(refused, service.TooManyAttempts):
            page.headers["Retry-After"] = str(refused.retry_after)
        return page
    # A new session (and form token) at login: nothing from before it carries over.
    session = visit.new_session(
        account=visit.account.id, customer=logged_in.customer, version=logged_in.version
    )
    response = visit.redirect("")
    visit.keep(response, session)
    return response


def _logged_out(visit: Visit, notice: str) -> Response:
    language = visit.session.language if visit.session else None
    response = visit.redirect(f"login?notice={notice}")
    visit.keep(response, visit.new_session(language))
    return response


@portal_page
async def home(visit: Visit) -> Response:
    """The customer's own page."""
    session = visit.session
    if session is None or not session.logged_in:
        return visit.redirect("login")
    try:
        customer = service.current_customer(visit.portal.database, visit.account, session)
    except SessionEnded:
        return _logged_out(visit, "ended")
    notice = NOTICES.get(visit.request.query_params.get("notice", ""))
    return _customer_page(visit, customer, notice=notice)


def _customer_page(
    visit: Visit,
    customer: service.CustomerView,
    status: int = 200,
    notice: str | None = None,
    error: PortalError | None = None,
) -> Response:
    return visit.render(
        "customer.html",
        customer.language,
        status,
        customer=customer,
        notice=notice,
        error=error,
        password_min=service.PASSWORD_MIN,
        password_max=service.PASSWORD_MAX,
    )


@portal_page
async def change_password(visit: Visit) -> Response:
    """Change the password: the current one, and the new one twice."""
    session = visit.session
    if session is None or not session.logged_in:
        return visit.redirect("login")
    if visit.request.method == "GET":
        return visit.redirect("")
    form = await read_form(visit.request)
    database = visit.portal.database
    try:
        customer = service.current_customer(database, visit.account, session)
        if not csrf_matches(session, form.get("csrf_token")):
            return _customer_page(visit, customer, 400, error=service.FormExpired())
        version = await service.change_password(
            database,
            visit.portal.throttle,
            visit.account,
            session,
            form.get("current_password", ""),
            form.get("new_password", ""),
            form.get("new_password_again", ""),
            visit.address,
        )
    except SessionEnded:
        return _logged_out(visit, "ended")
    except PortalError as error:
        return _customer_page(visit, customer, error.status, error=error)
    # This session goes on under the new credentials, with a new form token; every other
    # session of the customer has ended.
    renewed = visit.new_session(
        session.language, account=session.account, customer=session.customer, version=version
    )
    renewed.expires = session.expires
    response = visit.redirect("?notice=password-changed")
    visit.keep(response, renewed)
    return response


@portal_page
async def log_out(visit: Visit) -> Response:
    """End the customer's sessions and go back to the login form."""
    session = visit.session
    if session is None or not session.logged_in:
        return visit.redirect("login")
    if visit.request.method == "GET":
        # Only the page's form logs out: a link elsewhere cannot.
        return visit.redirect("")
    form = await read_form(visit.request)
    database = visit.portal.database
    try:
        customer = service.current_customer(database, visit.account, session)
    except SessionEnded:
        return _logged_out(visit, "ended")
    if not csrf_matches(session, form.get("csrf_token")):
        return _customer_page(visit, customer, 400, error=service.FormExpired())
    await service.log_out(database, visit.account, session)
    session.language = customer.language
    return _logged_out(visit, "logged-out")


@portal_page
async def not_found(visit: Visit) -> Response:
    raise service.PageNotFound()


async def stylesheet(request: Request) -> Response:
    response = Response(STYLESHEET, media_type="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return _secure(response, request)


def _pages() -> list[Route]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/login", login, methods=["GET", "POST"]),
        # GET (a typed or bookmarked address) leads back to the customer's page.
        Route("/password", change_password, methods=["GET", "POST"]),
        Route("/logout", log_out, methods=["GET", "POST"]),
    ]


routes: list[Route | Mount] = [
    Route("/portal/portal.css", stylesheet, methods=["GET"]),
    *[Route("/portal" + route.path, route.endpoint, methods=route.methods) for route in _pages()],
    Mount(
        "/portal/{account}",
        routes=[*_pages(), Route("/{rest:path}", not_found, methods=["GET", "POST"])],
    ),
]
