"""Sessions in a signed cookie (the portal's and the back office's): who is logged in (and
with which credentials version), the form token, and until when. Nothing secret is in the
cookie; the signature stops forgery."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import msgspec
from itsdangerous import BadData, URLSafeSerializer


def cookie_name(account_id: int, area: str = "portal") -> str:
    """The session cookie of one account's portal (or back office, `area` "admin"). Every
    portal can be served on one host (`/portal/{account}/`), so one name for all would let
    a visit to a second account's portal end the first one's session."""
    return f"fulfilment_{area}_{account_id}"


class Session(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A visitor's session; `person` (a customer or a staff user) is set once its password
    (or passkey) was right, and `stage` says what the login still needs (identity/login.py):
    "code", "enrol", or "in" once logged in."""

    csrf: str
    expires: int
    language: str | None = None
    account: int | None = None
    person: int | None = None
    # The person's credentials_version at login: any change of credentials (a new password,
    # `can_login: false`, deactivation, a logout...) bumps the stored one, and every session
    # that carries the old number ends.
    version: int | None = None
    stage: str | None = None

    @property
    def logged_in(self) -> bool:
        return self.person is not None and self.stage == "in"


class _SessionJson:
    """The cookie's payload: a Session as msgspec JSON, read back into a Session."""

    _encoder = msgspec.json.Encoder()

    def __init__(self, kind: type[Session]) -> None:
        self._decoder = msgspec.json.Decoder(kind)

    def dumps(self, session: Session) -> str:
        return self._encoder.encode(session).decode()

    def loads(self, payload: str | bytes) -> Session:
        return self._decoder.decode(payload)


class SessionSigner:
    """Writes and reads session cookies, signed with HMAC-SHA256 under the portal secret
    (itsdangerous). The session carries its own end: a login lasts a fixed time however
    often the cookie is written again."""

    def __init__(
        self,
        secret: bytes,
        lifetime_seconds: int,
        salt: bytes = b"fulfilment portal session cookie",
        kind: type[Session] = Session,
    ) -> None:
        # The salt derives a key of its own, so the configured secret could sign other
        # things safely (the back office's cookies have a salt of their own).
        self.kind = kind
        self._serializer = URLSafeSerializer(
            secret,
            salt=salt,
            serializer=_SessionJson(kind),
            signer_kwargs={"digest_method": hashlib.sha256},
        )
        self.lifetime = lifetime_seconds

    def new(self, language: str | None = None) -> Session:
        """A fresh anonymous session: a new form token, the full lifetime."""
        return self.kind(
            csrf=secrets.token_urlsafe(32),
            expires=int(time.time()) + self.lifetime,
            language=language,
        )

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps(session)

    def loads(self, cookie: str | None) -> Session | None:
        """The session in `cookie`, or None when it is missing, forged or expired."""
        if not cookie or len(cookie) > 4096:
            return None
        try:
            session: Session = self._serializer.loads(cookie)
        except BadData:  # a bad signature, or a payload that is not a session
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
