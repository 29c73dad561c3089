"""The exceptions the client raises: one base, the API's refusals by status, and the
failures that never reached an answer."""

from __future__ import annotations

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequest",
    "ClientError",
    "ConnectionFailed",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "ServerError",
    "UnexpectedResponse",
]


class ClientError(Exception):
    """Base of every exception the client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConnectionFailed(ClientError):
    """No answer: the server could not be reached, or the connection broke or timed out."""


class UnexpectedResponse(ClientError):
    """The server answered 2xx with something that is not the expected JSON."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ApiError(ClientError):
    """The API refused the request: `status`, the wire `error_code` and its `message`.

    `error_code` is None when the answer had no wire error body (a proxy's error page)."""

    def __init__(self, status: int, error_code: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code

    def __str__(self) -> str:
        code = f", error_code {self.error_code}" if self.error_code is not None else ""
        return f"{self.message} (HTTP {self.status}{code})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.error_code}, {self.message!r})"


class BadRequest(ApiError):
    """400 (and other 4xx without a class of their own): the body or a parameter is wrong."""


class AuthenticationError(ApiError):
    """401: no API key, an unknown or revoked one, or a key of another account."""


class Forbidden(ApiError):
    """403: the key may not use this (for example a key scoped to one customer)."""


class NotFound(ApiError):
    """404: no such object in this account (or no such path)."""


class RateLimited(ApiError):
    """429, after the retries the client was allowed: `retry_after` seconds, if known."""

    def __init__(
        self, status: int, error_code: int | None, message: str, retry_after: float | None
    ) -> None:
        super().__init__(status, error_code, message)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: a fault on the server's side or a dependency it cannot reach."""
