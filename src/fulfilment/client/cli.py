"""`fulfilment customers ...`: manage fulfilment customers on any server through the client.

Exit codes scripts can rely on are listed in `EXIT_CODES` (and in `--help`)."""

from __future__ import annotations

import functools
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

import click
import msgspec
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from ..fields import printable
from . import (
    Client,
    ClientError,
    Customer,
    CustomerListItem,
    export,
    transfer,
)
from .command import (
    BAD_ROWS,
    COLUMNS,
    EXIT_CODES,
    REFUSED,
    USAGE,
    Failure,
    cell,
    connection,
    open_client,
    print_customer,
    reports_errors,
    stderr,
)
from .field_options import collect_fields, field_options
from .terminal import print_table

P = ParamSpec("P")
R = TypeVar("R")
_encoder = msgspec.json.Encoder()


# -- commands -----------------------------------------------------------------------------


@click.group(name="customers", epilog=EXIT_CODES)
def customers() -> None:
    """Fulfilment customers on a server, through its API (this service or the hosted one)."""


@customers.command(name="list", epilog=EXIT_CODES)
@connection
@click.option("--search", help="Only those whose name, username or e-mail contains this.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array, for scripts.")
@reports_errors
def list_command(url: str, api_key: str, search: str | None, as_json: bool) -> None:
    """List every customer, by id."""
    with open_client(url, api_key) as client:
        found = client.customers.list(search=search)
        if as_json:
            _write_json_array(found)
            return
        rows = [[cell(customer, name, client.time_zone) for name in COLUMNS] for customer in found]
        table = Table(*COLUMNS.values())
        for row in rows:
            table.add_row(*row)
        print_table(table)


def _write_json_array(customers: Iterator[CustomerListItem]) -> None:
    out = sys.stdout
    out.write("[")
    first = True
    for customer in customers:
        out.write("\n" if first else ",\n")
        out.write(_encoder.encode(customer).decode())
        first = False
    out.write("]\n" if first else "\n]\n")


@customers.command(name="get", epilog=EXIT_CODES)
@connection
@click.argument("idfulfilment_customer", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="The customer as JSON, for scripts.")
@reports_errors
def get_command(url: str, api_key: str, idfulfilment_customer: int, as_json: bool) -> None:
    """Show one customer."""
    with open_client(url, api_key) as client:
        print_customer(client.customers.get(idfulfilment_customer), as_json, client.time_zone)


# A command function, and what adds an option to it.
@customers.command(name="create", epilog=EXIT_CODES)
@connection
@field_options(create=True)
@click.option("--json", "as_json", is_flag=True, help="The new customer as JSON.")
@reports_errors
def create_command(url: str, api_key: str, as_json: bool, **options: Any) -> None:
    """Create a customer and show it."""
    fields = collect_fields(options)
    with open_client(url, api_key) as client:
        print_customer(client.customers.create(**fields), as_json, client.time_zone)


@customers.command(name="update", epilog=EXIT_CODES)
@connection
@click.argument("idfulfilment_customer", type=click.IntRange(min=1))
@field_options(create=False)
@click.option("--json", "as_json", is_flag=True, help="The customer as JSON.")
@reports_errors
def update_command(
    url: str, api_key: str, idfulfilment_customer: int, as_json: bool, **options: Any
) -> None:
    """Change the fields given; the others keep their value."""
    fields = collect_fields(options)
    if not fields:
        raise click.UsageError("nothing to change: give at least one field option")
    with open_client(url, api_key) as client:
        changed = client.customers.update(idfulfilment_customer, **fields)
        print_customer(changed, as_json, client.time_zone)


def _names_the_columns(command: Callable[P, R]) -> Callable[P, R]:
    """Fills in the CSV columns of `command`'s help from the field table."""
    names = [
        column + (" (ids separated by spaces or ;)" if field.kind == "references" else "")
        for column, field in transfer.IMPORTED.items()
    ]
    lines = textwrap.wrap(", ".join(names), 82, initial_indent="  ", subsequent_indent="      ")
    command.__doc__ = (command.__doc__ or "").replace("{columns}", "\n".join(lines))
    return command


@customers.command(name="import", epilog=EXIT_CODES)
@connection
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--upsert", is_flag=True, help="Update the customer with the row's username.")
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows even if some are bad.")
@click.option("--check", "check_only", is_flag=True, help="Check every row; write nothing.")
@click.option(
    "--raw",
    is_flag=True,
    help="Take every cell as it is: keep a leading quote that an export (without --raw) "
    "put in front of a value a spreadsheet would run as a formula.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Rows sent at a time. With 1, ids follow the file's order.",
)
@reports_errors
@_names_the_columns
def import_command(
    url: str,
    api_key: str,
    file: Path,
    upsert: bool,
    skip_bad_rows: bool,
    check_only: bool,
    raw: bool,
    jobs: int,
) -> None:
    """Create customers from a CSV file with a header row.

    \b
    Columns (any order; only `name` is needed for a new customer):
    {columns}
    An export's idfulfilment_customer and last_login_at columns are ignored, and an
    empty cell sets nothing. Every row is checked first; if any is bad, each problem is
    listed and nothing is written, unless --skip-bad-rows. The quote an export puts in
    front of a formula-like value is taken off again (not with --raw)."""
    with open_client(url, api_key) as client:
        known = transfer.Known.fetch(client)
        outcome = transfer.plan(file, known, upsert=upsert, raw=raw)
        for problem in outcome.problems:
            stderr.print(printable(f"{file.name}: {problem}"), markup=False)
        summary = (
            f"{outcome.rows} rows: {outcome.creates} to create, {outcome.updates} to update, "
            f"{len(outcome.bad_lines)} bad"
        )
        stderr.print(summary, markup=False)
        if outcome.bad_lines and not skip_bad_rows:
            raise Failure(
                f"{len(outcome.bad_lines)} bad rows; nothing was imported "
                "(fix them, or pass --skip-bad-rows)",
                BAD_ROWS,
            )
        if check_only:
            return
        rows = transfer.good_rows(file, known, upsert=upsert, raw=raw)
        failures = _write(client, file.name, rows, outcome.good, jobs, stop=not skip_bad_rows)
    if failures:
        raise Failure(f"{failures} rows were refused by the server", REFUSED)


def _write(
    client: Client,
    file_name: str,
    rows: Iterator[transfer.Row],
    total: int,
    jobs: int,
    *,
    stop: bool,
) -> int:
    """Send the rows with a progress bar; report each refusal; return how many there were."""
    failures = 0
    done = 0
    started = time.monotonic()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
    ) as progress:
        task = progress.add_task("importing", total=total)

        def on_row(row: transfer.Row, error: ClientError | None) -> bool:
            nonlocal failures, done
            progress.advance(task)
            if error is not None:
                failures += 1
                progress.console.print(
                    printable(f"{file_name}: line {row.line}: {error}"), markup=False
                )
                return not stop
            done += 1
            return True

        try:
            transfer.write_rows(client, rows, on_row, jobs)
        finally:
            # Also when the server stops answering half way: say how far the import got.
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            stderr.print(
                f"imported {done} rows in {elapsed:.1f} s ({rate:.0f} rows/s)", markup=False
            )
    return failures


@customers.command(name="export", epilog=EXIT_CODES)
@connection
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    help="The file to write (default: standard output).",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "jsonl"]),
    help="CSV or JSON Lines (default: from the file name, else csv).",
)
@click.option("--search", help="Only those whose name, username or e-mail contains this.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Customers read at a time (each is read whole, besides the list pages).",
)
@click.option(
    "--raw",
    is_flag=True,
    help="CSV: write values exactly as stored. Without it, a value that starts with = + - @, "
    "a tab or a carriage return gets a leading quote, so that a spreadsheet shows it "
    "instead of running it as a formula.",
)
@reports_errors
def export_command(
    url: str,
    api_key: str,
    output: Path,
    file_format: str | None,
    search: str | None,
    jobs: int,
    raw: bool,
) -> None:
    """Write every customer, with every field, as CSV or JSON Lines.

    List pages leave out allowed_shipping_profiles, so each customer is also read on its
    own (one request per customer, --jobs at a time): an export imports whole.

    \b
    CSV cells that a spreadsheet would run as a formula (starting with = + - @, a tab or
    a carriage return) get a leading single quote, unless --raw. `import` takes the quote
    off again, so an export imports as it was either way (import a --raw export with
    --raw)."""
    if file_format is None:
        file_format = "jsonl" if output.suffix in {".jsonl", ".ndjson"} else "csv"
    writer: Callable[[Iterator[Customer], IO[str]], int]
    if file_format == "jsonl":
        writer = export.export_jsonl
    else:
        writer = functools.partial(export.export_csv, raw=raw)
    with open_client(url, api_key) as client:
        listed = client.customers.list(search=search)
        customers = export.whole_customers(client, listed, jobs)
        if str(output) == "-":
            count = writer(customers, sys.stdout)
        else:
            # Written beside the target and renamed at the end: a failed export leaves no
            # half file behind under the name asked for.
            partial = output.with_name(output.name + ".part")
            try:
                with partial.open("w", newline="", encoding="utf-8") as out:
                    count = writer(customers, out)
                partial.replace(output)
            except OSError as error:
                raise Failure(f"cannot write {output}: {error.strerror}", USAGE) from None
            finally:
                partial.unlink(missing_ok=True)
    stderr.print(f"exported {count} customers", markup=False)
