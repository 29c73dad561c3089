"""The command line's options for a customer's fields, made from the field table: what
`fulfilment customers create` and `update` take, and the fields they send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..fields import LANGUAGES, REQUIRED, WRITABLE_FIELDS, Field

Command = Callable[..., object]
Decorator = Callable[[Command], Command]
# The fields `create` and `update` have an option for, in table order.
OPTION_FIELDS = tuple(field for field in WRITABLE_FIELDS if field.cli_option)
_OPTION_TYPES: dict[str, click.Choice[str] | click.IntRange] = {
    "language": click.Choice(LANGUAGES),
    "reference": click.IntRange(min=1),
    "references": click.IntRange(min=1),
}
_ASK_PASSWORD = click.option("--ask-password", is_flag=True, help="Ask for the password, hidden.")


def _clearing(field: Field) -> str:
    """The parameter of a field's `update` flag that sends null (or an empty list)."""
    return "clear_" + field.name


def _field_option(field: Field, *, create: bool) -> Decorator:
    assert field.cli_option is not None
    return click.option(
        field.cli_option,
        field.name,
        required=create and field.default == REQUIRED,
        type=_OPTION_TYPES.get(field.kind),
        multiple=field.kind == "references",
        default=None,
        help=field.cli_help,
    )


def field_options(*, create: bool) -> Decorator:
    """The options that set a customer's fields, shared by `create` and `update`."""
    options: list[Decorator] = []
    for field in OPTION_FIELDS:
        options.append(_field_option(field, create=create))
        if field.write_only:
            options.append(_ASK_PASSWORD)
    if not create:
        options += [
            click.option(
                field.cli_clear[0], _clearing(field), is_flag=True, help=field.cli_clear[1]
            )
            for field in OPTION_FIELDS
            if field.cli_clear is not None
        ]

    def apply(command: Command) -> Command:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def collect_fields(options: dict[str, Any]) -> dict[str, Any]:
    """The fields to send, from the options given; options left out send nothing."""
    if options["ask_password"]:
        if options["password"] is not None:
            raise click.UsageError("give --password or --ask-password, not both")
        options["password"] = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    fields: dict[str, Any] = {}
    for field in OPTION_FIELDS:
        value = options[field.name]
        if field.kind == "references":
            value = list(value) or None
        if field.cli_clear is not None and options.get(_clearing(field)):
            flag = field.cli_clear[0]
            if value is not None:
                given = field.cli_option if field.kind == "references" else "the value given"
                raise click.UsageError(f"{flag} contradicts {given}")
            fields[field.name] = [] if field.kind == "references" else None
        elif value is not None:
            fields[field.name] = value
    return fields
