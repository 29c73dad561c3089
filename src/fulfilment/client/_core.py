"""What the blocking and the asyncio client share: the base URL, the retry policy, and
turning answers into objects or exceptions. No I/O happens here."""

from __future__ import annotations

import email.utils
import logging
import math
import time
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import msgspec

from .. import __version__
from ._errors import (
    ApiError,
    AuthenticationError,
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    UnexpectedResponse,
)

__all__ = ["PAGE_SIZE", "RetryPolicy"]

T = TypeVar("T")
log = logging.getLogger("fulfilment.client")

PAGE_SIZE = 100
USER_AGENT = f"fulfilment-client/{__version__} httpx/{httpx.__version__}"
DEFAULT_TIMEOUT = 30.0
CUSTOMERS = "fulfilment/customers"
HOOKS = "hooks"
USERS = "users"
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When the client tries a request again, and how long it may wait.

    A 429 is retried for every method (the server did not act on the request), waiting
    what `Retry-After` asks, but never longer than `max_wait` seconds: a longer wait raises
    `RateLimited` at once. A network error is retried for GET only, because a write may
    have been applied before the connection broke."""

    rate_limited: int = 5
    """Retries after a 429."""
    network: int = 2
    """Retries of a GET after a connection error or timeout."""
    max_wait: float = 60.0
    """The longest single wait, in seconds."""
    backoff: float = 0.5
    """First wait after a network error (doubling each time), and after a 429 that does
    not say how long to wait."""

    @classmethod
    def never(cls) -> RetryPolicy:
        """No retries at all: every 429 and network error is raised at once."""
        return cls(rate_limited=0, network=0)


def base_url(url: str | None, account: str | None, host: str | None, scheme: str = "https") -> str:
    """`url` as given (with `/api/v1/` added to a bare host), or the account's own URL
    `{scheme}://{account}.{host}/api/v1/`."""
    if (url is None) == (account is None):
        raise ValueError("give either a base URL or an account name (with its host)")
    if account is not None:
        if not host:
            raise ValueError("an account name needs the host it lives under, e.g. example.com")
        if not account or "." in account or "/" in account:
            raise ValueError(f"{account!r} is not an account name")
        return f"{scheme}://{account}.{host}/api/v1/"
    assert url is not None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    if parts.path in {"", "/"}:
        return f"{parts.scheme}://{parts.netloc}/api/v1/"
    return url if url.endswith("/") else url + "/"


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait: `Retry-After` as seconds or as an HTTP date."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class _ErrorBody(msgspec.Struct):
    error_code: int | None = None
    error_message: str | None = None


_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: Forbidden,
    404: NotFound,
}


def api_error(response: httpx.Response) -> ApiError:
    """The exception for an error answer, from its wire body when it has one."""
    code: int | None = None
    message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    try:
        body = msgspec.json.decode(response.content, type=_ErrorBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    else:
        code = body.error_code
        message = body.error_message or message
    status = response.status_code
    if status == 429:
        return RateLimited(status, code, message, retry_after(response))
    if status >= 500:
        return ServerError(status, code, message)
    return _ERROR_CLASSES.get(status, BadRequest)(status, code, message)


def decode(response: httpx.Response, kind: type[T]) -> T:
    """A 2xx answer's body as `kind`."""
    try:
        return msgspec.json.decode(response.content, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise UnexpectedResponse(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code} with a body that is not what the API sends: {error}",
            response.status_code,
        ) from None


def encode(body: msgspec.Struct) -> bytes:
    return _encoder.encode(body)


def rate_limit_wait(response: httpx.Response, attempt: int, policy: RetryPolicy) -> float | None:
    """How long to wait before retrying this 429, or None to give up now."""
    if attempt >= policy.rate_limited:
        return None
    wait = retry_after(response)
    if wait is None:
        wait = float(policy.backoff * 2**attempt)
    if wait > policy.max_wait:
        return None
    return wait


def network_wait(method: str, attempt: int, policy: RetryPolicy) -> float | None:
    """How long to wait before retrying after a network error, or None to give up now."""
    if method != "GET" or attempt >= policy.network:
        return None
    return float(min(policy.backoff * 2**attempt, policy.max_wait))


def log_retry(method: str, path: str, reason: str, wait: float) -> None:
    log.warning("%s %s: %s; retrying in %.1f s", method, path, reason, wait)


def page_params(offset: int, **filters: str | None) -> dict[str, object]:
    """The query of one page: its offset, and each filter that is given."""
    params: dict[str, object] = {"offset": offset}
    params.update((name, value) for name, value in filters.items() if value)
    return params
