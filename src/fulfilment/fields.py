"""Rules for a fulfilment customer's fields (limits, the languages, the text of a username
and an e-mail address), and how text from the API is shown on a terminal or written to a
spreadsheet. The server's schemas and the command-line tools (CSV import and export) both
use them; standard library only, so that the client side can import this module without
the server's packages."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, get_args

# The portal's languages; the first is a new customer's.
Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
# Counted after trimming the white space around it.
NAME_MAX = 255
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
USERNAME_MAX = 100
# A username of 100 characters may grow when normalised ("ﬃ" folds to "ffi", "㎒" to
# "mhz"); the stored key has room for three times that (migration 0003).
USERNAME_KEY_MAX = 300
EMAIL_MAX = 254
# Matched with fullmatch: `$` would also accept a final newline.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")

# Control (Cc), format (Cf: zero-width space, bidi overrides, soft hyphen...), surrogate,
# private-use, unassigned, and line or paragraph separator characters.
_UNSHOWABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Characters that render as nothing although their category is a letter or a mark: the
# rest of Unicode's Default_Ignorable_Code_Point (combining grapheme joiner, Hangul
# fillers, Khmer inherent vowels, Mongolian and other variation selectors).
_INVISIBLE_LETTERS_AND_MARKS = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]"
)


def is_unshowable(character: str) -> bool:
    """A character that is invisible, or that a terminal or a browser would act on rather
    than show: no person can tell from a screen that it is there."""
    return (
        unicodedata.category(character) in _UNSHOWABLE_CATEGORIES
        or _INVISIBLE_LETTERS_AND_MARKS.match(character) is not None
    )


def code_point(character: str) -> str:
    return f"U+{ord(character):04X}"


def _first_unshowable(text: str) -> str | None:
    return next((character for character in text if is_unshowable(character)), None)


def username_key(username: str) -> str:
    """What two usernames are compared by: Unicode compatibility normalisation (NFKC) and
    case folding, so that look-alike spellings (fullwidth letters, a precomposed "é"
    beside "e" with a combining accent, ligatures, case) are one username. Normalised
    again after folding, because folding can undo a normalisation."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def check_username(username: str) -> str:
    """`username` when it follows the rules, else ValueError with the reason."""
    if not 1 <= len(username) <= USERNAME_MAX:
        raise ValueError(f"must be 1 to {USERNAME_MAX} characters, not {len(username)}")
    hidden = _first_unshowable(username)
    if hidden is not None:
        raise ValueError(f"may not contain control or invisible characters ({code_point(hidden)})")
    if username != username.strip():
        raise ValueError("may not start or end with white space")
    if len(username_key(username)) > USERNAME_KEY_MAX:
        raise ValueError(
            f"is longer than {USERNAME_KEY_MAX} characters once normalised "
            "(Unicode NFKC and case folding)"
        )
    return username


def check_email(emailaddress: str) -> str:
    """`emailaddress` when it looks like an e-mail address, else ValueError with the reason."""
    hidden = _first_unshowable(emailaddress)
    if hidden is not None:
        raise ValueError(f"may not contain control or invisible characters ({code_point(hidden)})")
    if len(emailaddress) > EMAIL_MAX or not EMAIL.fullmatch(emailaddress):
        raise ValueError(f"{emailaddress!r} does not look like an e-mail address")
    return emailaddress


# -- showing and exporting ----------------------------------------------------------------


def _escape(character: str) -> str:
    number = ord(character)
    if number <= 0xFF:
        return f"\\x{number:02x}"
    if number <= 0xFFFF:
        return f"\\u{number:04x}"
    return f"\\U{number:08x}"


def printable(text: str) -> str:
    """`text` with every control or invisible character written as its escape (ESC as
    `\\x1b`, a zero-width space as `\\u200b`), so that it can go to a terminal."""
    if not any(is_unshowable(character) for character in text):
        return text
    return "".join(_escape(c) if is_unshowable(c) else c for c in text)


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"). A cell that starts with quotes before one of them is quoted once more, so
# that the quote an export adds can always be told apart and taken off again on import.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def spreadsheet_safe(cell: str) -> str:
    """`cell` with a single quote in front when a spreadsheet would run it as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def from_spreadsheet_safe(cell: str) -> str:
    """The value `spreadsheet_safe` was given: the quote it added, taken off."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell
