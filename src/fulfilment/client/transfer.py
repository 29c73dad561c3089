"""Bulk import of fulfilment customers through the client: reading and checking CSV rows,
planning creates and updates, and sending them (export.py writes them out again).

Nothing here knows about the server's code; it works against any server the client does."""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fields import (
    CUSTOMER_FIELDS,
    LANGUAGES,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    Field,
    check_email,
    check_username,
    username_key,
)
from ..spreadsheet import from_spreadsheet_safe
from . import ApiError, Client

# The fields an import sets, by their column, in the order an export writes them.
IMPORTED = {
    field.csv_name: field
    for field in CUSTOMER_FIELDS
    if field.csv_name is not None and not field.read_only
}
WRITABLE = tuple(IMPORTED)
# Columns of an export that an import accepts and leaves alone, so exports can be imported.
READ_ONLY = tuple(field.csv_name for field in CUSTOMER_FIELDS if field.csv_name and field.read_only)
TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n"}
SEPARATORS = re.compile(r"[\s,;]+")


class FileProblem(Exception):
    """The file as a whole cannot be imported (unreadable, no header, unknown columns)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one field of one row cannot be imported."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field} {self.reason}"


@dataclass(slots=True)
class Row:
    """A checked row: what to send, and the customer it updates (None: create one)."""

    line: int
    fields: dict[str, Any]
    update: int | None = None


@dataclass(slots=True)
class Known:
    """What the account already holds, for checks that need the server."""

    warehouses: set[int]
    templates: set[int]
    profiles: set[int]
    usernames: dict[str, int]
    """fields.username_key(username) -> idfulfilment_customer"""

    def ids(self, what: str | None) -> set[int]:
        """The ids of the account's objects a reference field names (`Field.refers_to`)."""
        return {
            "warehouse": self.warehouses,
            "template": self.templates,
            "shipping profile": self.profiles,
        }[what or ""]

    @classmethod
    def fetch(cls, client: Client) -> Known:
        return cls(
            warehouses={w.idwarehouse for w in client.warehouses.list()},
            templates={t.idtemplate for t in client.templates.list()},
            profiles={
                profile.idshippingprovider_profile
                for provider in client.shipping_providers.list()
                for profile in provider.profiles
            },
            usernames={
                username_key(c.username): c.idfulfilment_customer
                for c in client.customers.list()
                if c.username is not None
            },
        )


@dataclass(slots=True)
class Plan:
    """The outcome of checking a whole file."""

    rows: int = 0
    creates: int = 0
    updates: int = 0
    problems: list[Problem] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)

    @property
    def good(self) -> int:
        return self.rows - len(self.bad_lines)


def read(path: Path, *, raw: bool = False) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, cells) per data row; a row spread over lines counts from its first.
    Unless `raw`, the quote an export put in front of a formula-like cell is taken off."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise FileProblem(f"cannot read {path}: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise FileProblem(f"{path} is empty; it needs a header row") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise FileProblem(f"{path}: {error}") from None
        columns = [name.strip() for name in header]
        _check_header(columns)
        line = reader.line_num + 1
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    if not raw:
                        cells = [from_spreadsheet_safe(cell) for cell in cells]
                    yield line, dict(zip(columns, cells, strict=False))
                line = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as error:
            raise FileProblem(f"{path}, line {line}: {error}") from None


def _check_header(columns: list[str]) -> None:
    unknown = [name for name in columns if name not in WRITABLE and name not in READ_ONLY]
    if unknown:
        raise FileProblem(
            f"unknown column(s) {', '.join(map(repr, unknown))}; "
            f"the columns are {', '.join(WRITABLE)}"
        )
    if "name" not in columns and "username" not in columns:
        raise FileProblem("the file needs a `name` column (or `username` to update by)")
    duplicated = {name for name in columns if columns.count(name) > 1}
    if duplicated:
        raise FileProblem(f"column(s) {', '.join(sorted(duplicated))} appear more than once")


def _boolean(text: str) -> bool:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise ValueError(f"must be true or false, not {text!r}")


def _identifier(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1 or len(text) > 18:
        raise ValueError(f"must be a positive whole number, not {text!r}")
    return int(text)


def parse(line: int, cells: dict[str, str], known: Known) -> tuple[dict[str, Any], list[Problem]]:
    """The fields a row sets (empty cells set nothing), and what is wrong with it."""
    fields: dict[str, Any] = {}
    problems: list[Problem] = []

    def problem(name: str, reason: str) -> None:
        problems.append(Problem(line, name, reason))

    for column, declared in IMPORTED.items():
        raw = cells.get(column, "") or ""
        if "\x00" in raw:
            problem(declared.name, "contains a NUL character")
            continue
        text = raw if declared.kind in {"username", "password"} else raw.strip()
        if not text:
            continue
        try:
            fields[declared.name] = _value(declared, text, known)
        except ValueError as error:
            problem(declared.name, str(error))
    return fields, problems


def _at_most(field: Field, text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        raise ValueError(f"must be at most {limit} characters, not {len(text)}")
    return text


def _value(field: Field, text: str, known: Known) -> Any:
    """A cell's value for `field`, checked by the rules of its kind."""
    kind = field.kind
    if kind == "name":
        return _at_most(field, text, NAME_MAX)
    if kind == "text":
        return _at_most(field, text, field.max_length)
    if kind == "flag":
        return _boolean(text)
    if kind == "username":
        return check_username(text)
    if kind == "password":
        if not PASSWORD_MIN <= len(text) <= PASSWORD_MAX:
            raise ValueError(f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters")
        return text
    if kind == "email":
        return check_email(text)
    if kind == "language":
        if text not in LANGUAGES:
            raise ValueError(f"must be {' or '.join(LANGUAGES)}, not {text!r}")
        return text
    if kind == "reference":
        return _known(_identifier(text), known.ids(field.refers_to), field.refers_to)
    assert kind == "references", field
    ids = [_identifier(part) for part in SEPARATORS.split(text) if part]
    for value in ids:
        _known(value, known.ids(field.refers_to), field.refers_to)
    return list(dict.fromkeys(ids))


def _known(value: int, ids: set[int], what: str | None) -> int:
    if value not in ids:
        raise ValueError(f"{value} is not a {what} of this account")
    return value


def check(
    rows: Iterable[tuple[int, dict[str, str]]], known: Known, *, upsert: bool
) -> Iterator[tuple[Row | None, list[Problem]]]:
    """Check each row against the rules, the other rows and the account's data."""
    seen: dict[str, int] = {}
    for line, cells in rows:
        fields, problems = parse(line, cells, known)
        username = fields.get("username")
        existing: int | None = None
        if username is not None:
            key = username_key(username)
            if key in seen:
                problems.append(
                    Problem(line, "username", f"{username!r} is also on line {seen[key]}")
                )
            else:
                seen[key] = line
            existing = known.usernames.get(key)
            if existing is not None and not upsert:
                problems.append(
                    Problem(
                        line,
                        "username",
                        f"{username!r} is already used by fulfilment customer {existing} "
                        "(use --upsert to update it)",
                    )
                )
        if existing is None:
            if "name" not in fields:
                problems.append(Problem(line, "name", "is required for a new customer"))
            if fields.get("can_login"):
                for needed in ("username", "password"):
                    if needed not in fields and not any(p.field == needed for p in problems):
                        problems.append(Problem(line, needed, "is required when can_login is true"))
        if problems:
            yield None, problems
        elif existing is not None:
            # The username found the customer; it is the key, not a change (not even of case).
            del fields["username"]
            yield Row(line, fields, existing), problems
        else:
            yield Row(line, fields), problems


def plan(path: Path, known: Known, *, upsert: bool, raw: bool = False) -> Plan:
    """Check every row of the file; nothing is written."""
    outcome = Plan()
    for row, problems in check(read(path, raw=raw), known, upsert=upsert):
        outcome.rows += 1
        if row is None:
            outcome.problems.extend(problems)
            outcome.bad_lines.update(problem.line for problem in problems)
        elif row.update is None:
            outcome.creates += 1
        else:
            outcome.updates += 1
    return outcome


def good_rows(path: Path, known: Known, *, upsert: bool, raw: bool = False) -> Iterator[Row]:
    """The rows that passed `check`, read again from the file."""
    for row, _ in check(read(path, raw=raw), known, upsert=upsert):
        if row is not None:
            yield row


def _send(client: Client, row: Row) -> ApiError | None:
    try:
        if row.update is None:
            client.customers.create(**row.fields)
        else:
            client.customers.update(row.update, **row.fields)
    except ApiError as refused:
        return refused
    return None


def write_rows(
    client: Client,
    rows: Iterable[Row],
    on_row: Callable[[Row, ApiError | None], bool],
    jobs: int = 1,
) -> None:
    """Create or update each row, `jobs` at a time; `on_row` hears how each went, in file
    order, and returns False to stop sending more.

    With one job the customers get their ids in file order; with more, only roughly."""
    if jobs == 1:
        for row in rows:
            if not on_row(row, _send(client, row)):
                return
        return
    with ThreadPoolExecutor(jobs) as pool:
        # A short window of rows in flight keeps memory constant and the reports in order.
        window: deque[tuple[Row, Future[ApiError | None]]] = deque()
        stopped = False
        for row in rows:
            window.append((row, pool.submit(_send, client, row)))
            if len(window) > 2 * jobs:
                done, outcome = window.popleft()
                if not on_row(done, outcome.result()):
                    stopped = True
                    break
        for done, outcome in window:
            # Rows already sent are reported even after a stop: they may have been written.
            if stopped and outcome.cancel():
                continue
            if not on_row(done, outcome.result()):
                stopped = True
