"""What a spreadsheet would run as a formula is quoted on export and unquoted on import."""

from __future__ import annotations

import pytest

from fulfilment.spreadsheet import from_spreadsheet_safe, spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+31", "'+31"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=1+1", "''=1+1"),
        ("Acme", "Acme"),
        ("'quoted'", "'quoted'"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formula_like_cells_get_a_quote_that_comes_off_again(value: str, written: str) -> None:
    assert spreadsheet_safe(value) == written
    assert from_spreadsheet_safe(written) == value
