"""`fulfilment hooks ...`: manage webhooks on any server through the client. The operator's
`fulfilment hooks deliver` is added to this group by the server's command line."""

from __future__ import annotations

import sys

import click
import msgspec
from rich.table import Table

from . import EVENTS, Hook
from .command import EXIT_CODES, cell, connection, open_client, reports_errors
from .terminal import labelled_time, print_table, shown

_encoder = msgspec.json.Encoder()
HOOK_COLUMNS = ("idhook", "name", "event", "address", "active", "secret", "updated_at")


def _print(value: object, as_json: bool, time_zone: str | None) -> None:
    if as_json:
        click.echo(msgspec.json.format(_encoder.encode(value), indent=2).decode())
        return
    assert isinstance(value, Hook)
    table = Table(show_header=False, box=None)
    for name in value.__struct_fields__:
        table.add_row(name, cell(value, name, time_zone))
    print_table(table)


@click.group(name="hooks", epilog=EXIT_CODES)
def hooks() -> None:
    """Webhooks: deliveries of the account's events to an address of yours."""


@hooks.command(name="list", epilog=EXIT_CODES)
@connection
@click.option("--json", "as_json", is_flag=True, help="A JSON array, for scripts.")
@reports_errors
def list_command(url: str, api_key: str, as_json: bool) -> None:
    """List every hook, active or not, by id."""
    with open_client(url, api_key) as client:
        found = list(client.hooks.list())
    if as_json:
        sys.stdout.write(msgspec.json.format(_encoder.encode(found), indent=2).decode() + "\n")
        return
    table = Table(*HOOK_COLUMNS)
    for hook in found:
        table.add_row(*(cell(hook, name, client.time_zone) for name in HOOK_COLUMNS))
    print_table(table)


@hooks.command(name="create", epilog=EXIT_CODES)
@connection
@click.option("--name", required=True, help="A name to recognise the hook by.")
@click.option("--event", required=True, type=click.Choice(EVENTS))
@click.option("--address", required=True, help="The http(s) URL deliveries are POSTed to.")
@click.option(
    "--secret",
    envvar="FULFILMENT_HOOK_SECRET",
    show_envvar=True,
    help="Sign every delivery with this (better given in the environment variable).",
)
@click.option("--json", "as_json", is_flag=True, help="The new hook as JSON.")
@reports_errors
def create_command(
    url: str, api_key: str, name: str, event: str, address: str, secret: str | None, as_json: bool
) -> None:
    """Create a hook."""
    with open_client(url, api_key) as client:
        _print(client.hooks.create(name, event, address, secret), as_json, client.time_zone)


@hooks.command(name="delete", epilog=EXIT_CODES)
@connection
@click.argument("idhook", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="The hook as JSON.")
@reports_errors
def delete_command(url: str, api_key: str, idhook: int, as_json: bool) -> None:
    """Deactivate a hook (it stays readable; `reactivate` undoes it)."""
    with open_client(url, api_key) as client:
        _print(client.hooks.delete(idhook), as_json, client.time_zone)


@hooks.command(name="reactivate", epilog=EXIT_CODES)
@connection
@click.argument("idhook", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="The hook as JSON.")
@reports_errors
def reactivate_command(url: str, api_key: str, idhook: int, as_json: bool) -> None:
    """Activate a hook again."""
    with open_client(url, api_key) as client:
        _print(client.hooks.reactivate(idhook), as_json, client.time_zone)


@hooks.command(name="test", epilog=EXIT_CODES)
@connection
@click.argument("idhook", type=click.IntRange(min=1))
@reports_errors
def test_command(url: str, api_key: str, idhook: int) -> None:
    """Send the event `ping` to a hook; see `deliveries` for how it went."""
    with open_client(url, api_key) as client:
        client.hooks.test(idhook)
    click.echo(f"ping sent to hook {idhook}", err=True)


@hooks.command(name="deliveries", epilog=EXIT_CODES)
@connection
@click.argument("idhook", type=click.IntRange(min=1))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="A JSON array, for scripts.")
@reports_errors
def deliveries_command(url: str, api_key: str, idhook: int, limit: int, as_json: bool) -> None:
    """The hook's latest deliveries, newest first, with their last attempt."""
    with open_client(url, api_key) as client:
        found = []
        for delivery in client.hooks.deliveries(idhook):
            found.append(delivery)
            if len(found) >= limit:
                break
    if as_json:
        sys.stdout.write(msgspec.json.format(_encoder.encode(found), indent=2).decode() + "\n")
        return
    table = Table("id", "event", "triggered", "state", "attempts", "last status", "last error")
    for delivery in found:
        last = delivery.attempts[0] if delivery.attempts else None
        table.add_row(
            str(delivery.iddelivery),
            shown(delivery.event),
            labelled_time(delivery.event_triggered_at, client.time_zone),
            shown(delivery.state),
            str(len(delivery.attempts)),
            shown(last.status if last else None),
            shown(last.error if last else None),
        )
    print_table(table)
