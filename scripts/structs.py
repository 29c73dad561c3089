"""Write the msgspec structs of a fulfilment customer from the field table
(fulfilment.fields.CUSTOMER_FIELDS), and the webhook events' names from the event table
(fulfilment.events.EVENTS): the server's in customers/schemas.py and hooks/schemas.py, the
client's in client/_models.py, and the named rows of the customers' statements in
customers/queries.py, each between two marker lines. Typed classes and literals in
the source rather than built at import, so that mypy and editors know every one.

    python scripts/structs.py           # rewrite the marked parts
    python scripts/structs.py --check   # write nothing; fail when one is out of date"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from generated import ROOT, ruff, write_or_check

sys.path.insert(0, str(ROOT / "src"))

from fulfilment.events import EVENTS
from fulfilment.fields import (
    LIST_FIELDS,
    OUTPUT_FIELDS,
    REQUIRED,
    WRITABLE_FIELDS,
    Field,
)

PACKAGE = ROOT / "src" / "fulfilment"
BEGIN = "# -- written by scripts/structs.py from the tables of fields.py: do not edit --\n"
END = "# -- end of what scripts/structs.py writes --\n"
REGION = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)

# The Python type of each kind's value: in a server body, in a server answer, in the
# client's bodies and in its answers.
SERVER_IN = {
    "name": "str",
    "flag": "bool",
    "username": "str",
    "password": "str",
    "email": "str",
    "language": "Language",
    "text": "str",
    "reference": "Id",
    "references": "list[Id]",
}
SERVER_OUT = {
    **SERVER_IN,
    "id": "int",
    "reference": "int",
    "references": "list[int]",
    "datetime": "DateTime",
}
CLIENT_OUT = {**SERVER_OUT, "language": "str", "datetime": "str"}
# As a column stores it: SQLite's flags are 0 and 1 and its datetimes text (see
# wire.format_datetime), the references a JSON array, and the password its hash (None: no
# password).
STORED = {
    **SERVER_OUT,
    "language": "str",
    "references": "str",
    "password": "str | None",
    "datetime": "datetime | str",
}
CLIENT_IN = {**CLIENT_OUT, "references": "Sequence[int]"}


def _has_meta(field: Field) -> bool:
    return any(v is not None for v in (field.min_length, field.max_length, field.description))


def _alias(field: Field) -> str:
    """The name of a field's constrained type: `allowed_shipping_profiles` ->
    `AllowedShippingProfiles`."""
    return "".join(part.capitalize() for part in field.name.split("_"))


def _server_in(field: Field) -> str:
    return _alias(field) if _has_meta(field) else SERVER_IN[field.kind]


def _aliases() -> str:
    """A constrained type per writable field that has limits or a description; its Meta is
    built from the table at import (schemas.field_meta)."""
    return "".join(
        f"{_alias(field)} = Annotated[{SERVER_IN[field.kind]}, field_meta({field.name!r})]\n"
        for field in WRITABLE_FIELDS
        if _has_meta(field)
    )


def _default(field: Field) -> str:
    if field.default == []:
        return " = msgspec.field(default_factory=list)"
    return "" if field.default is REQUIRED else f" = {field.default!r}"


def _nullable(field: Field, annotation: str) -> str:
    return f"{annotation} | None" if field.nullable else annotation


def _unset(field: Field, annotation: str) -> str:
    return _nullable(field, f"{annotation} | UnsetType") + " = UNSET"


def _struct(
    header: str, fields: tuple[Field, ...], line: Callable[[Field], str], tail: str = ""
) -> str:
    body = "".join(f"    {field.name}: {line(field)}\n" for field in fields)
    return f"\n\n{header}\n{body}{tail}"


def _answer(types: dict[str, str]) -> Callable[[Field], str]:
    return lambda field: _nullable(field, types[field.kind]) + _default(field)


def server() -> str:
    """The server's structs; its answers take their fields by position too, in the order
    of the columns queries.py selects for them (see rows.Reader)."""

    def create(field: Field) -> str:
        if field.write_only:
            return _unset(field, _server_in(field))
        return _nullable(field, _server_in(field)) + _default(field)

    return _aliases() + "".join(
        [
            _struct(
                "class CustomerCreate(msgspec.Struct, kw_only=True):\n"
                '    """Body of `POST /fulfilment/customers`. Unknown and read-only fields are'
                ' ignored."""\n',
                WRITABLE_FIELDS,
                create,
            ),
            _struct(
                "class CustomerUpdate(msgspec.Struct, kw_only=True):\n"
                '    """Body of `PUT /fulfilment/customers/{id}`: only the fields sent are'
                ' changed."""\n',
                WRITABLE_FIELDS,
                lambda field: _unset(field, _server_in(field)),
            ),
            _struct(
                "class Customer(msgspec.Struct):\n"
                '    """A fulfilment customer, as GET one, POST and PUT answer it."""\n',
                OUTPUT_FIELDS,
                lambda field: _nullable(field, SERVER_OUT[field.kind]),
            ),
            _struct(
                "class CustomerListItem(msgspec.Struct):\n"
                f'    """A fulfilment customer in a list: without {_left_out()}."""\n',
                LIST_FIELDS,
                lambda field: _nullable(field, SERVER_OUT[field.kind]),
            ),
        ]
    )


def rows() -> str:
    """The named rows of the customers' statements (queries.py), a field per column."""

    def column(field: Field) -> str:
        return _nullable(field, STORED[field.kind])

    def named_tuple(name: str, doc: str, fields: tuple[Field, ...], tail: str = "") -> str:
        body = "".join(f"    {field.stored_as}: {column(field)}\n" for field in fields)
        return f'\n\nclass {name}(NamedTuple):\n    """{doc}"""\n\n{body}{tail}'

    return "".join(
        [
            named_tuple(
                "CustomerRow", "A customer's answer: GET one, INSERT and UPDATE.", OUTPUT_FIELDS
            ),
            named_tuple("CustomerListRow", "A customer in a list page.", LIST_FIELDS),
            named_tuple(
                "CustomerStateRow",
                "What a change starts from: the writable fields and the credentials' version.",
                WRITABLE_FIELDS,
                "    credentials_version: int\n",
            ),
        ]
    )


def _left_out() -> str:
    return ", ".join(f"`{f.name}`" for f in OUTPUT_FIELDS if f not in LIST_FIELDS)


def client() -> str:
    hidden_repr = "\n    def __repr__(self) -> str:\n        return _without_password(self)\n"

    def create(field: Field) -> str:
        if field.default is REQUIRED:
            return CLIENT_IN[field.kind]
        return _unset(field, CLIENT_IN[field.kind])

    return "".join(
        [
            _struct(
                "class CustomerListItem(msgspec.Struct, kw_only=True, frozen=True):\n"
                f'    """A fulfilment customer as a list page shows it (no {_left_out()})."""\n',
                LIST_FIELDS,
                _answer(CLIENT_OUT),
            ),
            _struct(
                "class Customer(msgspec.Struct, kw_only=True, frozen=True):\n"
                '    """A fulfilment customer with every field, as `get`, `create` and `update`'
                ' return it."""\n',
                OUTPUT_FIELDS,
                _answer(CLIENT_OUT),
            ),
            _struct(
                "class CustomerCreate(msgspec.Struct, kw_only=True, frozen=True):\n"
                '    """The body of a create: fields left UNSET are not sent and get the'
                ' server\'s default."""\n',
                WRITABLE_FIELDS,
                create,
                hidden_repr,
            ),
            _struct(
                "class CustomerUpdate(msgspec.Struct, kw_only=True, frozen=True):\n"
                '    """The body of an update: only the fields that are not UNSET are sent and'
                ' changed."""\n',
                WRITABLE_FIELDS,
                lambda field: _unset(field, CLIENT_IN[field.kind]),
                hidden_repr,
            ),
            _struct(
                "class CustomerFields(TypedDict, total=False):\n"
                '    """The writable fields, as keyword arguments of `create` and `update`."""\n',
                WRITABLE_FIELDS,
                lambda field: _nullable(field, CLIENT_IN[field.kind]),
            ),
        ]
    )


def _event_names(*, subscribed_only: bool) -> str:
    """A constant per event, and `EVENTS`: those a hook subscribes to."""
    shown = [event for event in EVENTS if event.subscribed or not subscribed_only]
    constants = "".join(f"{event.constant} = {event.name!r}\n" for event in shown)
    subscribed = [event.constant for event in EVENTS if event.subscribed]
    items = ", ".join(subscribed) + ("," if len(subscribed) == 1 else "")
    return f"{constants}# The events a hook subscribes to.\nEVENTS = ({items})\n"


def server_events() -> str:
    names = ", ".join(repr(event.name) for event in EVENTS if event.subscribed)
    return _event_names(subscribed_only=False) + f"Event = Literal[{names}]\n"


def client_with_events() -> str:
    return client() + "\n\n" + _event_names(subscribed_only=True)


TARGETS = {
    PACKAGE / "customers" / "schemas.py": server,
    PACKAGE / "customers" / "queries.py": rows,
    PACKAGE / "hooks" / "schemas.py": server_events,
    PACKAGE / "client" / "_models.py": client_with_events,
}


def written(path: Path, text: str, structs: str) -> str:
    """`text` with its marked part replaced by `structs`, formatted as ruff does."""
    if not REGION.search(text):
        raise SystemExit(f"structs: {path} has no part marked {BEGIN.strip()!r}")
    return ruff(REGION.sub(lambda _: BEGIN + structs + "\n\n" + END, text), path)


def main(arguments: list[str]) -> int:
    check = arguments == ["--check"]
    if arguments and not check:
        print(__doc__, file=sys.stderr)
        return 2
    current = [
        write_or_check(
            path,
            written(path, path.read_text(encoding="utf-8"), render()),
            check=check,
            source="the field table",
            script="structs.py",
        )
        for path, render in TARGETS.items()
    ]
    return 0 if all(current) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
