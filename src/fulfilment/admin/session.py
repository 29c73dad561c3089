"""What a back-office session cookie carries: the web layer signs it, the service reads
which staff user it belongs to and how far the login has come."""

from __future__ import annotations

from ..web.sessions import Session


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
