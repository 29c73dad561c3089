"""Portal sessions in a signed cookie: who is logged in (and with which credentials version),
the form token, and until when. Nothing secret is in the cookie; the signature stops forgery."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

import msgspec

COOKIE_PATH = "/portal"


def cookie_name(account_id: int) -> str:
    """The session cookie of one account's portal. Every portal can be served on one host
    (`/portal/{account}/`), so one name for all would let a visit to a second account's
    portal end the first one's session."""
    return f"fulfilment_portal_{account_id}"


class Session(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A visitor's session; `customer` is set once it has logged in."""

    csrf: str
    expires: int
    language: str | None = None
    account: int | None = None
    customer: int | None = None
    # The customer's credentials_version at login: a new password, `can_login: false` or a
    # logout bumps the stored one, and every session that carries the old number ends.
    version: int | None = None

    @property
    def logged_in(self) -> bool:
        return self.customer is not None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Session)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Writes and reads session cookies, signed with HMAC-SHA256 under the portal secret."""

    def __init__(self, secret: bytes, lifetime_seconds: int) -> None:
        # A key of its own, so that the configured secret could sign other things safely.
        self._key = hmac.new(secret, b"fulfilment portal session cookie", hashlib.sha256).digest()
        self.lifetime = lifetime_seconds

    def new(self, language: str | None = None) -> Session:
        """A fresh anonymous session: a new form token, the full lifetime."""
        return Session(
            csrf=secrets.token_urlsafe(32),
            expires=int(time.time()) + self.lifetime,
            language=language,
        )

    def _signature(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def dumps(self, session: Session) -> str:
        payload = _b64(_encoder.encode(session))
        return f"{payload}.{self._signature(payload)}"

    def loads(self, cookie: str | None) -> Session | None:
        """The session in `cookie`, or None when it is missing, forged or expired."""
        if not cookie or len(cookie) > 4096:
            return None
        payload, _, signature = cookie.partition(".")
        if not hmac.compare_digest(signature.encode(), self._signature(payload).encode()):
            return None
        try:
            session = _decoder.decode(_unb64(payload))
        except (binascii.Error, ValueError, msgspec.DecodeError):
            return None
        if session.expires <= time.time():
            return None
        return session

    def seconds_left(self, session: Session) -> int:
        return max(0, session.expires - int(time.time()))


def csrf_matches(session: Session | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())
