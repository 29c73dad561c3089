"""Reading requests and writing answers in the wire format: bodies, query parameters, JSON."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import anyio
import msgspec
from msgspec import Meta
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .clock import as_datetime
from .errors import ApiError, BodyTooLarge, IncompleteBody, InvalidInput, InvalidJson, UnknownPath

T = TypeVar("T")

PAGE_SIZE = 100
MAX_OFFSET = 2**62
MAX_SEARCH_LENGTH = 255
JSON_TYPE = "application/json; charset=utf-8"

_encoder = msgspec.json.Encoder()


# A moment on the wire (see format_datetime).
DateTime = Annotated[
    str,
    Meta(
        pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        description="`YYYY-MM-DD HH:MM:SS` in the account's time zone.",
    ),
]


# An answer of the API is data, never a page: a browser that opens one runs nothing in it
# (only the console at /docs may run scripts: docs/).
DATA_ONLY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
]


class JsonResponse(Response):
    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return _encoder.encode(content)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        super().init_headers(headers)
        self.raw_headers.extend(DATA_ONLY_HEADERS)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing one over `limit` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
            chunks.append(chunk)
    except ClientDisconnect:
        # The client went away (or broke the framing) mid-body: nothing is done, and the
        # answer most likely reaches no one, but it is an ordinary 400, not a fault.
        raise IncompleteBody("The request body ended before it was complete.") from None
    return b"".join(chunks)


async def discard_body(request: Request, limit: int) -> None:
    """Read and drop the body of a request refused before its body was needed (401, 403,
    503). Answered with the body unread, granian now and then closed the keep-alive
    connection before the answer went out: about 1 in 6,000 such answers, measured."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return
    size = 0
    # RuntimeError: the body was read already; ApiError: the body timed out, or there is no
    # room for it now. Either way the answer already chosen stands. A client that stalls
    # is not waited for long.
    with contextlib.suppress(ClientDisconnect, RuntimeError, ApiError), anyio.move_on_after(1.0):
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return


_JSON_WORDS = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "float": "a number",
    "array": "an array",
    "object": "an object",
    "null": "null",
}
_EXPECTED = re.compile(
    r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`(?: - at `\$(?P<path>[^`]*)`)?$"
)
_CONSTRAINT = re.compile(
    r"^Expected `(?P<want>[^`]+)` (?P<rule>.+?)(?: - at `\$(?P<path>[^`]*)`)?$"
)
_MISSING = re.compile(
    r"^Object missing required field `(?P<field>[^`]+)`(?: - at `\$(?P<path>[^`]*)`)?$"
)
_INVALID = re.compile(r"^Invalid enum value (?P<value>.+?)(?: - at `\$(?P<path>[^`]*)`)?$")
_AT_FIELD = re.compile(r"^(?P<problem>.+?) - at `\$(?P<path>[^`]*)`$")


def _words(types: str) -> str:
    parts = [_JSON_WORDS.get(part.strip(), part.strip()) for part in types.split("|")]
    return " or ".join(parts)


def _field(path: str | None) -> str | None:
    """`.allowed_shipping_profiles[3]` -> `allowed_shipping_profiles`."""
    if not path:
        return None
    return path.lstrip(".").split("[", 1)[0].split(".", 1)[0] or None


# msgspec's constraint wording (`of length <= 255`, `>= 1`) in ours.
_RULES = (
    (re.compile(r"^of length <= (\d+)$"), "at most {} characters long"),
    (re.compile(r"^of length >= (\d+)$"), "at least {} characters long"),
    (re.compile(r"^<= (-?\d+)$"), "at most {}"),
    (re.compile(r"^>= (-?\d+)$"), "at least {}"),
    (re.compile(r"^< (-?\d+)$"), "below {}"),
    (re.compile(r"^> (-?\d+)$"), "above {}"),
)
_OUT_OF_RANGE = {"Integer value out of range", "Number out of range"}


def _rule(text: str) -> str:
    for pattern, words in _RULES:
        if match := pattern.match(text):
            return words.format(match[1])
    return "within the limits the API documents"


def _explain(error: msgspec.ValidationError) -> InvalidInput:
    """Turn msgspec's message into a sentence of ours that names the field and what is
    wrong. msgspec gives only its English text: the version range is pinned, and
    tests/test_wire.py checks that each kind of message still reads as
    these patterns expect. A message they do not know still names the field, in our words,
    and never passes the library's text on."""
    text = str(error)
    if match := _MISSING.match(text):
        name = match["field"]
        return InvalidInput(f"{name} is required.")
    if match := _EXPECTED.match(text):
        name = _field(match["path"])
        if name is None:
            return InvalidInput(f"The request body must be {_words(match['want'])}.")
        return InvalidInput(
            f"{name} must be {_words(match['want'])}, not {_words(match['got'])}"
            f"{_where(match['path'])}.",
        )
    if match := _INVALID.match(text):
        name = _field(match["path"]) or "value"
        return InvalidInput(f"{name} has an unknown value {match['value']}.")
    if match := _CONSTRAINT.match(text):
        name = _field(match["path"]) or "body"
        return InvalidInput(
            f"{name} must be {_words(match['want'])} {_rule(match['rule'])}"
            f"{_where(match['path'])}.",
        )
    if (match := _AT_FIELD.match(text)) and (name := _field(match["path"])):
        if match["problem"] in _OUT_OF_RANGE:
            return InvalidInput(f"{name} is out of range{_where(match['path'])}.")
        return InvalidInput(f"{name} is not valid{_where(match['path'])}.")
    return InvalidInput("The request body is not valid.")


def _where(path: str | None) -> str:
    if path and "[" in path:
        return f" (item {path[path.index('[') :]})"
    return ""


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> None:
    if len(pairs) > 1 and len({key for key, _ in pairs}) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)


def _ignore(text: str) -> None:
    return None


# msgspec, like most parsers, keeps the last of two equal keys; a client that sends both
# could see one value checked and another stored by a proxy that keeps the first. This
# scanner only looks at keys: values are parsed to None, so a huge number costs nothing.
_key_scanner = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicates,
    parse_int=_ignore,
    parse_float=_ignore,
    parse_constant=_ignore,
)


def decode_body(body: bytes, schema: type[T]) -> T:
    """Decode and type-check a JSON body; every failure is a wire error."""
    try:
        value = msgspec.json.decode(body, type=schema, strict=True)
        # Only valid UTF-8 JSON gets here, so the scan can fail on nothing but a duplicate.
        _key_scanner.decode(body.decode("utf-8"))
    except msgspec.ValidationError as error:
        raise _explain(error) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise InvalidJson("The request body is not valid JSON.") from None
    except RecursionError:
        raise InvalidJson("The request body is nested too deeply.") from None
    except _DuplicateKey as duplicate:
        key = duplicate.key[:100]
        raise InvalidInput(
            f"{key} appears more than once in the request body; send each key once."
        ) from None
    return value


def parse_offset(request: Request) -> int:
    raw = request.query_params.get("offset")
    if raw is None or raw == "":
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_OFFSET:
        raise InvalidInput(f"offset must be a whole number of 0 or more, not '{raw[:40]}'.")
    return int(raw)


def parse_search(request: Request) -> str | None:
    """The `search` parameter: NUL is refused as in bodies (PostgreSQL cannot compare it)."""
    raw = request.query_params.get("search")
    if raw is not None and len(raw) > MAX_SEARCH_LENGTH:
        raise InvalidInput(f"search must be at most {MAX_SEARCH_LENGTH} characters.")
    if raw is not None and "\x00" in raw:
        raise InvalidInput("search may not contain NUL characters.")
    return raw


def parse_id(request: Request, name: str) -> int | None:
    """A path id; None for a number no object can have (the caller answers 404 for the
    object). A path whose id is no number at all (`abc`, `-1`, `1.0`) is no path."""
    raw: str = request.path_params[name]
    if not raw.isascii() or not raw.isdigit():
        raise UnknownPath(f"There is no {request.url.path}.")
    if len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value < 2**63 else None


def format_datetime(value: datetime | str | None, timezone: ZoneInfo) -> str | None:
    """A stored UTC timestamp as wire text in the account's time zone."""
    moment = as_datetime(value)
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S")
