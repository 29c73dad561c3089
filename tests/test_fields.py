"""The shared text rules: what a spreadsheet would run, and how terminals are shown text."""

from __future__ import annotations

import pytest

from fulfilment.fields import from_spreadsheet_safe, printable, spreadsheet_safe


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


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Acme BV", "Acme BV"),
        ("Zoë \u00e9", "Zoë \u00e9"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("bell\x07", "bell\\x07"),
        ("csi\x9b", "csi\\x9b"),
        ("\u202eabc", "\\u202eabc"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("line\nbreak", "line\\x0abreak"),
        ("tag\U000e0041", "tag\\U000e0041"),
    ],
)
def test_printable_writes_control_and_invisible_characters_as_escapes(
    text: str, shown: str
) -> None:
    assert printable(text) == shown
