"""Wire shape of a staff user, as the hosted system's users API answers it."""

from __future__ import annotations

import msgspec

from ..fields import Language
from ..wire import DateTime


class User(msgspec.Struct, kw_only=True):
    """A staff user: `GET /api/v1/users`, `/users/{iduser}` and `/users/me`."""

    iduser: int
    username: str
    firstname: str | None
    lastname: str | None
    emailaddress: str
    language: Language
    admin: bool
    active: bool
    last_login_at: DateTime | None
    created_at: DateTime
    updated_at: DateTime
