"""The error hierarchy and the one wire error body every failure is answered with."""

from __future__ import annotations

from typing import ClassVar

import msgspec


class ErrorBody(msgspec.Struct, kw_only=True):
    """`{"error": true, "error_code": <int>, "error_message": "..."}`, whatever the status."""

    error: bool = True
    error_code: int
    error_message: str


# Wire error codes. The first block reuses the hosted system's published codes; the
# second holds this service's own, numbered apart so that they never collide with those.
UNKNOWN_ERROR = 1
INVALID_PARAMETERS = 5
NOT_IMPLEMENTED = 8
NOT_FOUND = 20
INVALID_JSON = 22
RATE_LIMITED = 28
UNAUTHENTICATED = 101
FORBIDDEN = 102
BODY_TOO_LARGE = 103
UNAVAILABLE = 104
BODY_TIMEOUT = 105
HEADERS_TOO_LARGE = 106


class ApiError(Exception):
    """Base of every error the API answers with; `status` and `code` pick the wire answer."""

    status: ClassVar[int] = 500
    code: ClassVar[int] = UNKNOWN_ERROR
    headers: dict[str, str] | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ApiError):
    """A body or query parameter breaks a rule; the message names the field."""

    status = 400
    code = INVALID_PARAMETERS


def storable(field: str, value: str) -> str:
    """`value`, when a database can store it: InvalidInput naming `field` for lone
    surrogates and NUL characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{field} contains characters that are not valid Unicode.") from None
    if "\x00" in value:
        raise InvalidInput(f"{field} may not contain NUL characters.")
    return value


class InvalidJson(ApiError):
    status = 400
    code = INVALID_JSON


class IncompleteBody(ApiError):
    status = 400
    code = INVALID_JSON


class BodyTooLarge(ApiError):
    status = 413
    code = BODY_TOO_LARGE


class BodyTimeout(ApiError):
    """The body stopped arriving: the client stalled, or sends too slowly."""

    status = 408
    code = BODY_TIMEOUT


class Unauthenticated(ApiError):
    status = 401
    code = UNAUTHENTICATED
    headers = {"WWW-Authenticate": 'Basic realm="fulfilment"'}  # noqa: RUF012


class Forbidden(ApiError):
    status = 403
    code = FORBIDDEN


class NotFound(ApiError):
    status = 404
    code = NOT_FOUND


class UnknownPath(ApiError):
    status = 404
    code = NOT_IMPLEMENTED


class MethodNotAllowed(ApiError):
    status = 405
    code = NOT_IMPLEMENTED

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message)
        self.headers = {"Allow": allow}


class RateLimited(ApiError):
    status = 429
    code = RATE_LIMITED

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class ServiceUnavailable(ApiError):
    status = 503
    code = UNAVAILABLE


class CustomerNotFound(NotFound):
    def __init__(self, idfulfilment_customer: int) -> None:
        super().__init__(f"Fulfilment customer {idfulfilment_customer} not found.")


class HookNotFound(NotFound):
    def __init__(self, idhook: int) -> None:
        super().__init__(f"Hook {idhook} not found.")


class HookLimitReached(InvalidInput):
    """The account has as many active hooks as it may have."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This account already has {limit} active hooks, the most it may have "
            "(FULFILMENT_HOOKS_PER_ACCOUNT): deactivate one first."
        )
        self.limit = limit


class UsernameTaken(InvalidInput):
    def __init__(self, username: str) -> None:
        super().__init__(f"username '{username}' is already used by another fulfilment customer.")


class HookAddressTaken(InvalidInput):
    """The account has a hook for this event at this address already."""

    def __init__(self, event: str, idhook: int | None = None) -> None:
        which = "a hook" if idhook is None else f"hook {idhook}"
        super().__init__(f"address is already used by {which} for {event} in this account.")


# (status, code, when) for every answer the API can give; rendered into the README and
# the OpenAPI document so the table is written down once.
ERROR_TABLE: tuple[tuple[int, int, str], ...] = (
    (
        400,
        INVALID_PARAMETERS,
        "A body field or query parameter is missing or breaks a rule, or a body key is repeated.",
    ),
    (400, INVALID_JSON, "The body is not valid JSON, not UTF-8, nested too deeply or cut off."),
    (401, UNAUTHENTICATED, "No API key, an unknown or revoked key, or another account's host."),
    (403, FORBIDDEN, "The API key is scoped to one fulfilment customer and may not use this."),
    (404, NOT_FOUND, "No such object in this account."),
    (404, NOT_IMPLEMENTED, "No such path."),
    (405, NOT_IMPLEMENTED, "The path exists, but not with this method (see `Allow`)."),
    (
        408,
        BODY_TIMEOUT,
        "The body stopped arriving (no part for 10 seconds by default, or not whole in 60).",
    ),
    (413, BODY_TOO_LARGE, "The body is larger than the limit (1 MiB by default)."),
    (429, RATE_LIMITED, "Too many requests with this API key (see `Retry-After`)."),
    (431, HEADERS_TOO_LARGE, "The request's headers add up to more than 64 KiB."),
    (500, UNKNOWN_ERROR, "A fault in the service itself."),
    (
        503,
        UNAVAILABLE,
        "A dependency (database, Redis) cannot be reached right now, or too many bodies "
        "are arriving at once.",
    ),
)


def error_body(code: int, message: str) -> bytes:
    return msgspec.json.encode(ErrorBody(error_code=code, error_message=message))
