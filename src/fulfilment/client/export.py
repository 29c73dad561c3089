"""Bulk export of fulfilment customers through the client: every field of every customer,
as CSV (which `transfer` imports again) or JSON Lines.

Nothing here knows about the server's code; it works against any server the client does."""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

import msgspec

from ..fields import OUTPUT_FIELDS
from ..spreadsheet import spreadsheet_safe
from . import Client, Customer, CustomerListItem

# Every field of an answer that has a column, so that an export imports whole.
EXPORTED = {field.csv_name: field.name for field in OUTPUT_FIELDS if field.csv_name is not None}


def whole_customers(
    client: Client, listed: Iterable[CustomerListItem], jobs: int = 1
) -> Iterator[Customer]:
    """Each listed customer with every field, read `jobs` at a time, in the list's order:
    list pages leave out fields (`allowed_shipping_profiles`) that only a GET of one has."""
    if jobs == 1:
        for item in listed:
            yield client.customers.get(item.idfulfilment_customer)
        return
    with ThreadPoolExecutor(jobs) as pool:
        window: deque[Future[Customer]] = deque()
        for item in listed:
            window.append(pool.submit(client.customers.get, item.idfulfilment_customer))
            if len(window) > 2 * jobs:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        # Ids as an import reads them back: separated by semicolons.
        return ";".join(str(item) for item in value)
    return str(value)


def export_csv(customers: Iterable[Customer], out: IO[str], *, raw: bool = False) -> int:
    """Write a header and one row per customer; returns how many. Unless `raw`, a cell a
    spreadsheet would run as a formula gets a leading quote (`read` takes it off again)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORTED)
    shown = _cell if raw else (lambda value: spreadsheet_safe(_cell(value)))
    count = 0
    for customer in customers:
        writer.writerow([shown(getattr(customer, name)) for name in EXPORTED.values()])
        count += 1
    return count


def export_jsonl(customers: Iterable[Customer], out: IO[str]) -> int:
    """Write one JSON object per line and customer; returns how many."""
    encoder = msgspec.json.Encoder()
    count = 0
    for customer in customers:
        out.write(encoder.encode(customer).decode())
        out.write("\n")
        count += 1
    return count
