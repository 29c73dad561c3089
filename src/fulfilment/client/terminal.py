"""How the command lines write what they show: tables whole when piped, values as text, and
times in the account's time zone with the zone named."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..fields import printable

__all__ = ["labelled_time", "print_table", "shown"]

WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
# Wide enough for any row: piped into a file or `grep`, a table is never cut to a terminal
# width that is not there (rich assumes 80 columns then).
PIPED_WIDTH = 100_000


def print_table(table: Table) -> None:
    """Print to standard output: fitted to a terminal, whole anywhere else."""
    if sys.stdout.isatty():
        Console().print(table)
    else:
        Console(width=PIPED_WIDTH, soft_wrap=True).print(table)


def shown(value: Any) -> Text:
    """A value for a table cell. Text from the server is data: control characters are shown
    as escapes (a terminal would act on them) and brackets are not read as rich markup."""
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list):
        return Text(", ".join(map(str, value)) or "all")
    return Text(printable(str(value)))


def labelled_time(value: datetime | str | None, zone_name: str | None) -> Text:
    """A time as `YYYY-MM-DD HH:MM:SS` and its zone's abbreviation (`CET`, `CEST`).

    An aware datetime is moved into the zone; wire text is already in it (the API answers
    in the account's zone). Without a zone (a server that does not name it), wire text is
    shown as it came, marked as the server's time."""
    if value is None:
        return Text("")
    zone = _zone(zone_name)
    if isinstance(value, datetime):
        if zone is None:
            return Text(value.strftime(WIRE_FORMAT + " %Z").strip())
        return Text(value.astimezone(zone).strftime(WIRE_FORMAT + " %Z"))
    if zone is None:
        return Text(printable(value) + " (server time)")
    try:
        moment = datetime.strptime(value, WIRE_FORMAT).replace(tzinfo=zone)
    except ValueError:
        return Text(printable(value))
    return Text(moment.strftime(WIRE_FORMAT + " %Z"))


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
