"""Chromium's virtual authenticator (the DevTools `WebAuthn` domain) through a CDP session,
and the host names the browser tests use: `fulfilment.localhost` is the shared host,
`acme.fulfilment.localhost` the account's own. Chromium sends every `*.localhost` name to
the loopback address and counts it a secure context, as WebAuthn requires."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

SHARED_HOST = "fulfilment.localhost"
RELYING_PARTY = SHARED_HOST


def own_host(subdomain: str = "acme") -> str:
    return f"{subdomain}.{SHARED_HOST}"


def at(server: str, host: str) -> str:
    """`server` (http://127.0.0.1:PORT) under the name `host`."""
    return server.replace("127.0.0.1", host)


class Authenticator:
    """A platform authenticator that keeps discoverable credentials and verifies its user
    (as a phone's fingerprint reader would), in one page's browser context."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.session: CDPSession = context.new_cdp_session(page)
        self.session.send("WebAuthn.enable", {"enableUI": False})
        self.id = self.add()

    def add(self) -> str:
        options = {
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        answer = self.session.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        authenticator: str = answer["authenticatorId"]
        return authenticator

    def credentials(self) -> list[dict[str, Any]]:
        found = self.session.send("WebAuthn.getCredentials", {"authenticatorId": self.id})
        credentials: list[dict[str, Any]] = found["credentials"]
        return credentials

    def clear(self) -> None:
        self.session.send("WebAuthn.clearCredentials", {"authenticatorId": self.id})

    def clone(self, sign_count: int) -> None:
        """Replace this authenticator by a copy of it whose counter stands at `sign_count`:
        what a copied key would look like to the service."""
        (credential,) = self.credentials()
        self.session.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})
        self.id = self.add()
        copied = {**credential, "signCount": sign_count}
        self.session.send(
            "WebAuthn.addCredential", {"authenticatorId": self.id, "credential": copied}
        )


def new_context(browser: Browser, **options: Any) -> tuple[BrowserContext, Page, Authenticator]:
    """A browser context with JavaScript (the passkey script needs it), one page, and a
    virtual authenticator on it."""
    context = browser.new_context(**options)
    page = context.new_page()
    return context, page, Authenticator(context, page)
