"""How terminals are shown text from the API."""

from __future__ import annotations

import pytest

from fulfilment.fields import printable


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
