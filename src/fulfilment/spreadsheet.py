"""Cells a spreadsheet would run as a formula (OWASP, "CSV Injection"): quoted when a file
is written, and the quote taken off again when it is read. Standard library only, so that
the server and the client package (`fulfilment.client`, which imports nothing else of the
server) can both use it."""

from __future__ import annotations

import re

# A cell that starts with one of these is read as a formula. A cell that starts with
# quotes before one of them is quoted once more, so that the quote `spreadsheet_safe` adds
# can always be told apart and taken off again.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def spreadsheet_safe(cell: str) -> str:
    """`cell` with a single quote in front when a spreadsheet would run it as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def from_spreadsheet_safe(cell: str) -> str:
    """The value `spreadsheet_safe` was given: the quote it added, taken off."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell
