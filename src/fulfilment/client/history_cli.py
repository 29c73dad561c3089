"""`fulfilment customers history ID`: a customer's audit trail through the client."""

from __future__ import annotations

from typing import Any

import click
import msgspec
from rich.table import Table
from rich.text import Text

from ..fields import printable
from .command import EXIT_CODES, connection, open_client, reports_errors
from .terminal import labelled_time, print_table, shown

_encoder = msgspec.json.Encoder()


_ACTORS = {"api_key": "API key", "staff": "staff user", "portal": "portal"}


def _change(value: Any) -> str:
    """One field's change as `old → new` (a password only as `changed`)."""
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        old, new = (_encoder.encode(value[end]).decode() for end in ("from", "to"))
        return f"{old} → {new}"
    return _encoder.encode(value).decode() if not isinstance(value, str) else value


@click.command(name="history", epilog=EXIT_CODES)
@connection
@click.argument("idfulfilment_customer", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="A JSON array, for scripts.")
@reports_errors
def history_command(url: str, api_key: str, idfulfilment_customer: int, as_json: bool) -> None:
    """Show a customer's audit trail, oldest first: who changed what, and when."""
    with open_client(url, api_key) as client:
        events = list(client.customers.history(idfulfilment_customer))
        if as_json:
            click.echo(msgspec.json.format(_encoder.encode(events), indent=2).decode())
            return
        table = Table("when", "what", "who", "changes")
        for event in events:
            who = f"{_ACTORS.get(event.actor.type, event.actor.type)} {event.actor.name}".strip()
            changes = "\n".join(
                printable(f"{name}: {_change(value)}") for name, value in event.changes.items()
            )
            table.add_row(
                labelled_time(event.occurred_at, client.time_zone),
                shown(event.action),
                shown(f"{who} ({event.actor.id})" if event.actor.id else who),
                Text(changes),
            )
        print_table(table)
