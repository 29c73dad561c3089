"""What every `fulfilment` client command shares: its exit codes, how a client error
becomes one, the connection options, and how an object is printed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import click
import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..fields import LIST_FIELDS, printable
from . import (
    ApiError,
    AuthenticationError,
    Client,
    ClientError,
    Customer,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    transfer,
)
from .terminal import labelled_time, print_table, shown

P = ParamSpec("P")
R = TypeVar("R")
# A click command function, before or after its decorators.
F = TypeVar("F", bound=Callable[..., object])

OK = 0
REFUSED = 1  # the API refused the request (400, 405, 413...), or rows failed while writing
USAGE = 2  # bad options or arguments (click's own code), or a file that cannot be read
NOT_FOUND = 3
NOT_ALLOWED = 4  # 401 or 403: the key is wrong, revoked, or may not do this
UNAVAILABLE = 5  # no answer, a 5xx, or still rate limited after the retries
BAD_ROWS = 6  # import: the file has bad rows, and nothing was written
EXIT_CODES = f"""\b
Exit codes:
  {OK}  done
  {REFUSED}  the API refused the request (or, on import, rows failed while writing)
  {USAGE}  bad options, arguments or file
  {NOT_FOUND}  no such customer
  {NOT_ALLOWED}  the API key is wrong, revoked, or may not do this
  {UNAVAILABLE}  the server cannot be reached, failed, or kept rate limiting
  {BAD_ROWS}  import: the file has bad rows; nothing was written"""

# Lines whole however wide the terminal is, or when there is none: a message is read by
# scripts too.
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class Failure(click.ClickException):
    """An error a person can act on, with the exit code scripts rely on."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        # click reads the code from the instance; its stub declares a class variable.
        self.exit_code = exit_code  # type: ignore[misc]


def exit_code(error: ClientError) -> int:
    if isinstance(error, NotFound):
        return NOT_FOUND
    if isinstance(error, AuthenticationError | Forbidden):
        return NOT_ALLOWED
    if isinstance(error, ServerError | RateLimited) or not isinstance(error, ApiError):
        return UNAVAILABLE
    return REFUSED


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Client errors become one readable line on standard error and an exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ClientError as error:
            raise Failure(printable(str(error)), exit_code(error)) from None
        except transfer.FileProblem as error:
            raise Failure(printable(str(error)), USAGE) from None

    return run


def connection(command: F) -> F:
    """`--url` and `--api-key` (or their environment variables) on every command."""
    command = click.option(
        "--api-key",
        envvar="FULFILMENT_API_KEY",
        required=True,
        show_envvar=True,
        help="The API key (sent as the Basic auth user name).",
    )(command)
    return click.option(
        "--url",
        envvar="FULFILMENT_URL",
        required=True,
        show_envvar=True,
        help="The API's base URL, e.g. http://127.0.0.1:8000/api/v1/ or "
        "https://acme.example.com/api/v1/.",
    )(command)


@contextmanager
def open_client(url: str, api_key: str) -> Iterator[Client]:
    try:
        client = Client(url, api_key=api_key)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--url") from None
    with client:
        yield client


# -- output -------------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
# The columns of `list`: field name -> heading.
COLUMNS = {field.name: field.cli_heading for field in LIST_FIELDS if field.cli_heading}


def cell(item: msgspec.Struct, name: str, time_zone: str | None) -> Text:
    """One field of an answer for a table: a date-time labelled with its zone."""
    value = getattr(item, name)
    if name.endswith("_at"):
        return labelled_time(value, time_zone)
    return shown(value)


def print_customer(customer: Customer, as_json: bool, time_zone: str | None) -> None:
    if as_json:
        click.echo(msgspec.json.format(_encoder.encode(customer), indent=2).decode())
        return
    table = Table(show_header=False, box=None)
    for name in customer.__struct_fields__:
        table.add_row(name, cell(customer, name, time_zone))
    print_table(table)
