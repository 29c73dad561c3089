"""Rules for a fulfilment customer's fields (limits, the languages, the text of a username
and an e-mail address), how text from the API is shown on a terminal, and the field table
(the event table is events.py).
The server's schemas and pages and the command-line tools (CSV import and export) all use
them; standard library only, so that the client side can import this module without the
server's packages."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal, get_args


def N_(message: str) -> str:
    """Mark `message` as a key of the pages' catalogues (portal/translations); it is
    translated where it is shown."""
    return message


# The portal's languages; the first is a new customer's. Each by its name, in itself.
Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
LANGUAGE_NAMES: dict[str, str] = {"nl": N_("Nederlands"), "en": N_("English")}
# Counted after trimming the white space around it.
NAME_MAX = 255
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
USERNAME_MAX = 100
# A username of 100 characters may grow when normalised ("ﬃ" folds to "ffi", "㎒" to
# "mhz"); the stored key has room for three times that (migration 0003).
USERNAME_KEY_MAX = 300
EMAIL_MAX = 254
# One mailbox: RFC 5322's addr-spec without quotes or a domain literal (letters, digits,
# `!#$%&'*+/=?^_`{|}~-`, dots and any character beyond ASCII before the @; dot-separated
# labels of them, at least two, after it). What would make it more than one mailbox, or
# a mailbox with a name, cannot be in it: no comma, semicolon, colon, angle brackets,
# quotes, parentheses, brackets, backslash or white space. Matched with fullmatch: `$`
# would also accept a final newline.
_ATOM = r'[^\x00-\x20\x7f"(),.:;<>@\[\\\]\s]+'
_LOCAL = r'[^\x00-\x20\x7f"(),:;<>@\[\\\]\s]+'
EMAIL = re.compile(rf"{_LOCAL}@{_ATOM}(?:\.{_ATOM})+")
# The service's own sender (FULFILMENT_MAIL_FROM): one mailbox too, whose domain may be a
# host's bare name (`noreply@localhost`).
SENDER = re.compile(rf"{_LOCAL}@{_ATOM}(?:\.{_ATOM})*")

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


# What a mail program reads as the start of encoded text (RFC 2047's encoded word,
# `=?utf-8?q?...?=`), even inside quotes: a name holding one could decode to a line break.
ENCODED_WORD_START = "=?"
DisplayNameProblem = Literal["length", "characters", "encoded"]


def display_name_problem(name: str) -> DisplayNameProblem | None:
    """What keeps `name` (trimmed) from being a name mails carry in a header, such as an
    account's name in From and Subject; None when it is plain text that can."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        return "length"
    if _first_unshowable(name) is not None:
        return "characters"
    if ENCODED_WORD_START in name:
        return "encoded"
    return None


def check_display_name(name: str) -> str:
    """`name` trimmed when it is plain text a mail's header can carry (no control or
    invisible characters, line and paragraph separators among them, and nothing a mail
    program would decode), else ValueError with the reason."""
    problem = display_name_problem(name)
    if problem == "length":
        raise ValueError(f"must be 1-{NAME_MAX} characters")
    if problem == "characters":
        hidden = _first_unshowable(name.strip())
        assert hidden is not None
        raise ValueError(f"may not contain control or invisible characters ({code_point(hidden)})")
    if problem == "encoded":
        raise ValueError(
            f"may not contain '{ENCODED_WORD_START}', which mail programs read as the start "
            "of encoded text"
        )
    return name.strip()


# -- showing on a terminal ---------------------------------------------------------------


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


# -- the field table ----------------------------------------------------------------------
#
# Each field of a fulfilment customer, declared once. The server's structs (customers/
# schemas.py) and the client's (client/_models.py) are written from it by
# scripts/structs.py; the statements, the answers, change tracking and the audit trail,
# CSV import and export, the command-line options and the OpenAPI text are derived from it
# when their modules are imported.

REQUIRED: Final = "required"  # the default of a field a create must carry
Kind = Literal[
    "id",  # the customer's own id: read-only
    "name",  # text, trimmed, 1 to NAME_MAX characters after trimming
    "flag",  # true or false
    "username",  # check_username, unique in the account
    "password",  # write-only, stored as a hash
    "email",  # check_email
    "language",  # one of LANGUAGES
    "text",  # text up to max_length, as given
    "reference",  # the id of another object of the account (`refers_to`), or null
    "references",  # ids of objects of the account (`refers_to`), kept in order, no repeats
    "datetime",  # read-only `YYYY-MM-DD HH:MM:SS` in the account's time zone
]


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a fulfilment customer, in wire order among the others."""

    name: str
    kind: Kind
    # What a create without the field stores; REQUIRED: a create must send it.
    default: object = None
    nullable: bool = False
    in_list: bool = True  # also in list items, not only in single answers
    # The request schema's limits (JSON Schema minLength / maxLength or maxItems) and text.
    min_length: int | None = None
    max_length: int | None = None
    description: str | None = None
    column: str = ""  # the table's column; the name when empty
    search_column: str | None = None  # its case-folded copy that `search` matches
    refers_to: str | None = None  # reference(s): what the id names ("warehouse")
    audit_label: str | None = ""  # its key in the audit trail: the name when empty
    # Its column in CSV files: the name when empty; None: not imported nor exported. Read-only
    # fields are exported, and an import takes their column but leaves it alone.
    csv_column: str | None = ""
    cli_option: str | None = None  # the option of `fulfilment customers create/update`
    cli_help: str = ""
    cli_clear: tuple[str, str] | None = None  # (flag, help) of `update` that sends null
    cli_heading: str | None = None  # the column of `fulfilment customers list`
    # The words of the back office's and the portal's pages, as keys of their catalogues:
    # the field's label (None: no page shows it), what an empty value reads as, and a hint
    # under its form field. How a value is shown and typed follows from its kind.
    label: str | None = None
    unset_label: str = N_("Not set")
    hint: str | None = None
    in_portal: bool = True  # the portal's customer page shows it (with a label)

    @property
    def stored_as(self) -> str:
        return self.column or self.name

    @property
    def audited_as(self) -> str | None:
        return self.name if self.audit_label == "" else self.audit_label

    @property
    def csv_name(self) -> str | None:
        return self.name if self.csv_column == "" else self.csv_column

    @property
    def read_only(self) -> bool:
        return self.kind in {"id", "datetime"}

    @property
    def write_only(self) -> bool:
        return self.kind == "password"


CUSTOMER_FIELDS: tuple[Field, ...] = (
    Field(
        "idfulfilment_customer",
        "id",
        default=REQUIRED,
        audit_label=None,
        cli_heading="id",
        label=N_("Number"),
        in_portal=False,
    ),
    Field(
        "name",
        "name",
        default=REQUIRED,
        min_length=1,
        description=f"1-{NAME_MAX} characters after trimming white space.",
        search_column="search_name",
        cli_option="--name",
        cli_help="The customer's name.",
        cli_heading="name",
        label=N_("Name"),
    ),
    Field(
        "can_login",
        "flag",
        default=False,
        cli_option="--can-login/--cannot-login",
        cli_help="Whether the customer may log in to the portal (needs a username and password).",
        cli_heading="login",
        label=N_("Can log in"),
        in_portal=False,
    ),
    Field(
        "username",
        "username",
        nullable=True,
        min_length=1,
        max_length=USERNAME_MAX,
        description=(
            "Unique in the account, compared after Unicode normalisation (NFKC) and case "
            "folding; no surrounding white space, no control or invisible characters."
        ),
        search_column="search_username",
        cli_option="--username",
        cli_help="The portal login name.",
        cli_heading="username",
        label=N_("Username"),
    ),
    Field(
        "password",
        "password",
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description="Write-only: stored as an argon2id hash, never returned.",
        column="password_hash",
        cli_option="--password",
        cli_help="The portal password (visible to other users of this machine: "
        "prefer --ask-password).",
        label=N_("Password"),
        in_portal=False,
    ),
    Field(
        "emailaddress",
        "email",
        nullable=True,
        min_length=3,
        max_length=EMAIL_MAX,
        # OpenAPI adds check_email's pattern (openapi.email_pattern).
        description=(
            "One e-mail address, name@domain.tld: no display name, list or group, "
            "and no white space, quotes, brackets or commas."
        ),
        search_column="search_email",
        cli_option="--email",
        cli_help="The customer's e-mail address.",
        cli_clear=("--no-email", "Remove the e-mail address."),
        cli_heading="e-mail",
        label=N_("E-mail address"),
    ),
    Field(
        "language",
        "language",
        default=LANGUAGES[0],
        cli_option="--language",
        cli_help="The portal language.",
        cli_heading="lang",
        label=N_("Language"),
    ),
    Field(
        "idtemplate",
        "reference",
        nullable=True,
        refers_to="template",
        cli_option="--template",
        cli_help="idtemplate.",
        cli_clear=("--no-template", "Remove the template."),
        cli_heading="template",
        label=N_("Template"),
        unset_label=N_("The default template"),
    ),
    Field(
        "last_login_at",
        "datetime",  # its pattern and description: customers/schemas.py's DateTime
        nullable=True,
        audit_label=None,
        cli_heading="last login",
        label=N_("Last login"),
        unset_label=N_("Never"),
        in_portal=False,
    ),
    Field(
        "allowed_shipping_profiles",
        "references",
        default=[],
        in_list=False,
        max_length=1000,
        description=(
            "idshippingprovider_profile's this customer may use; empty means all. "
            "Order is kept, duplicates are dropped."
        ),
        refers_to="shipping profile",
        cli_option="--shipping-profile",
        cli_help="An allowed idshippingprovider_profile; repeat for more (none: all).",
        cli_clear=("--all-shipping-profiles", "Allow every shipping profile."),
        label=N_("Shipping profiles"),
        unset_label=N_("All shipping profiles"),
        hint=N_("None ticked: every shipping profile is allowed."),
    ),
    Field(
        "preferred_idwarehouse",
        "reference",
        nullable=True,
        refers_to="warehouse",
        cli_option="--warehouse",
        cli_help="The preferred idwarehouse.",
        cli_clear=("--no-warehouse", "Use the default warehouse."),
        cli_heading="warehouse",
        label=N_("Preferred warehouse"),
        unset_label=N_("The default warehouse"),
    ),
)
FIELDS_BY_NAME = {field.name: field for field in CUSTOMER_FIELDS}
# What a create or an update may send, and what an answer holds, in wire order.
WRITABLE_FIELDS = tuple(field for field in CUSTOMER_FIELDS if not field.read_only)
OUTPUT_FIELDS = tuple(field for field in CUSTOMER_FIELDS if not field.write_only)
LIST_FIELDS = tuple(field for field in OUTPUT_FIELDS if field.in_list)
# What the back office's customer page and form, and the portal's page, show, in this order.
SHOWN_FIELDS = tuple(field for field in OUTPUT_FIELDS if field.label is not None)
FORM_FIELDS = tuple(field for field in WRITABLE_FIELDS if field.label is not None)
PORTAL_FIELDS = tuple(field for field in SHOWN_FIELDS if field.in_portal)
