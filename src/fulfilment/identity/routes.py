"""The identity kernel's pages as routes: each site serves every one of them under its own
prefix, wrapped by the site (its visit, its words, its security headers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import link_pages, pages, passkey_pages

Handler = Callable[[Any, pages.SitePages], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
# A site's wrapper: a kernel page, and whether only a logged-in person may reach it.
Wrapper = Callable[[Handler, bool], Endpoint]

_BOTH = ["GET", "POST"]
_POST = ["POST"]
# (path under the site's prefix, page, methods, logged in only).
PAGES: tuple[tuple[str, Handler, list[str], bool], ...] = (
    ("/login", pages.log_in, _BOTH, False),
    ("/second-factor", pages.second_factor, _BOTH, False),
    ("/enrol", pages.enrol, _BOTH, False),
    ("/enrol/passkey-options", passkey_pages.enrol_options, _POST, False),
    ("/enrol/passkey", passkey_pages.enrol, _BOTH, False),
    ("/recovery-codes", pages.recovery_codes, ["GET"], True),
    ("/logout", pages.log_out, _BOTH, True),
    ("/forgot", link_pages.ask_reset, _BOTH, False),
    ("/reset", link_pages.reset, _BOTH, False),
    ("/email", link_pages.change_email, _BOTH, True),
    ("/email/confirm", link_pages.confirm_email, _BOTH, False),
    ("/passkeys", passkey_pages.manage, _BOTH, True),
    ("/passkeys/options", passkey_pages.registration_options, _POST, True),
    ("/passkeys/{passkey:int}/remove", passkey_pages.remove, _BOTH, True),
    ("/passkey/login-options", passkey_pages.login_options, _POST, False),
    ("/passkey/login", passkey_pages.log_in, _BOTH, False),
)


def for_site(wrap: Wrapper) -> Callable[[str], list[Route]]:
    """Every kernel page wrapped by `wrap` once, for one site; the answer gives their routes
    under a prefix (`/portal`, `/admin/{account}`), all prefixes sharing the endpoints."""
    wrapped = [
        (path, wrap(handler, logged_in), methods) for path, handler, methods, logged_in in PAGES
    ]

    def under(prefix: str) -> list[Route]:
        return [
            Route(prefix + path, endpoint, methods=methods) for path, endpoint, methods in wrapped
        ]

    return under
