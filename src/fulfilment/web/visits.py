"""What the portal's and the back office's pages share: the per-process state of one set of
pages, and one request to one account's pages (its session cookie, language and rendering)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar, cast

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..accounts.service import Account
from ..db import Database
from ..fields import LANGUAGES
from ..settings import Settings
from .errors import PageError
from .i18n import negotiate
from .pages import allow_script
from .relying_party import RelyingParty, relying_party_id
from .sessions import Session, SessionSigner, cookie_name

S = TypeVar("S", bound=Session)


class Site:
    """What one set of pages keeps for the life of the process; `area` names its session
    cookie and `cookie_path` is where the cookie is sent."""

    area: ClassVar[str]
    cookie_path: ClassVar[str]
    # The pages that offer passkeys, and so run the passkey script.
    passkey_templates: ClassVar[frozenset[str]] = frozenset(
        {"login.html", "passkeys.html", "enrol.html"}
    )
    settings: Settings
    database: Database
    signer: SessionSigner
    environments: dict[str, Environment]

    def cookie(self, account: Account) -> str:
        return cookie_name(account.id, self.area)


@dataclass(slots=True)
class PageVisit(Generic[S]):
    """One request to one account's pages: the account, the session, and how to answer."""

    request: Request
    site: Site
    account: Account
    base: str
    session: S | None

    @property
    def address(self) -> str:
        return self.request.client.host if self.request.client else "unknown"

    def language(self, preferred: str | None = None) -> str:
        """The page's language: `preferred` when it is one, else the session's, else the
        browser's."""
        for candidate in (preferred, self.session.language if self.session else None):
            if candidate in LANGUAGES:
                return candidate
        return negotiate(self.request.headers.get("accept-language"))

    def extra(self) -> dict[str, object]:
        """What every page of the site is rendered with besides (the back office: its
        user)."""
        return {}

    def page(self, template: str, language: str, status: int, **context: object) -> HTMLResponse:
        """`template` in `language`; the session (a new one if there is none) goes back with
        it."""
        session = self.session or self.new_session(language)
        relying = self.relying_party()
        context.setdefault("passkeys_here", relying is not None)
        context.setdefault("notice", None)
        context.setdefault("error", None)
        context.setdefault("form_errors", {})
        error = context["error"]
        if isinstance(error, PageError) and error.field and not context["form_errors"]:
            # An error about one field is shown as the form pattern shows any: beside it.
            context["form_errors"] = {error.field: (error.message, error.values)}
            context["error"] = None
        page = self.site.environments[language].get_template(template)
        html = page.render(
            base=self.base,
            language=language,
            languages=LANGUAGES,
            account_name=self.account.name,
            timezone=self.account.timezone,
            # The first part of the address below the site's base: the menu marks it.
            section=self.request.url.path[len(self.base) :].split("/")[0],
            failed=_failed(context),
            csrf_token=session.csrf,
            **self.extra(),
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        if relying is not None and template in self.site.passkey_templates:
            allow_script(response)
        self.keep(response, session)
        return response

    def relying_party(self) -> RelyingParty | None:
        """The site passkeys are made for and used on at this address; None at an address
        passkeys cannot work on (an IP address)."""
        url = self.request.url
        host = url.hostname or ""
        relying_id = relying_party_id(host, self.account.subdomain, self.site.settings.public_url)
        if relying_id is None:
            return None
        default_port = {"http": 80, "https": 443}.get(url.scheme)
        port = f":{url.port}" if url.port is not None and url.port != default_port else ""
        return RelyingParty(relying_id, f"{url.scheme}://{host.lower()}{port}", self.account.name)

    def redirect(self, path: str) -> RedirectResponse:
        # 303: the browser follows a form's POST with a GET.
        return RedirectResponse(self.base + path, status_code=303)

    def keep(self, response: Response, session: S) -> None:
        """Send `session` back as the cookie."""
        site = self.site
        secure = (
            site.settings.portal_secure_cookies == "always" or self.request.url.scheme == "https"
        )
        response.set_cookie(
            site.cookie(self.account),
            site.signer.dumps(session),
            max_age=site.signer.seconds_left(session),
            path=site.cookie_path,
            httponly=True,
            samesite="lax",
            secure=secure,
        )

    def new_session(self, language: str | None = None, **values: object) -> S:
        session = cast(S, self.site.signer.new(language))
        for name, value in values.items():
            setattr(session, name, value)
        self.session = session
        return session


def _failed(context: dict[str, object]) -> bool:
    """Whether the page answers a form with errors (its title then says so)."""
    form = context.get("form")
    return bool(context["error"] or context["form_errors"] or getattr(form, "errors", None))


def error_page(
    request: Request, site: Site, error: PageError, account: Account | None, **context: object
) -> Response:
    """The error page, in the language of the visitor's session when there is one."""
    language = negotiate(request.headers.get("accept-language"))
    if account is not None:
        session = site.signer.loads(request.cookies.get(site.cookie(account)))
        if session is not None and session.language in LANGUAGES:
            language = session.language
    page = site.environments[language].get_template("error.html")
    html = page.render(
        language=language, error=error, account_name=None, failed=True, form_errors={}, **context
    )
    return HTMLResponse(html, status_code=error.status)
