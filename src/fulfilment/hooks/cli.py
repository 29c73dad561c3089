"""`fulfilment hooks deliver`: the delivery worker alone, for an instance that serves no
requests (or for one started with FULFILMENT_HOOKS_WORKER=false)."""

from __future__ import annotations

import asyncio
import signal

import click

from .. import migrate
from ..db import Database
from ..settings import Settings, SettingsError
from .delivery import deliver_until_stopped


@click.command(name="deliver")
def deliver() -> None:
    """Deliver due webhook deliveries until stopped (SIGTERM or Ctrl-C)."""
    try:
        settings = Settings.from_env()
        settings.require_encryption_key()
        database = Database(settings)
    except (SettingsError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    try:
        migrate.require_head(database)
    except migrate.SchemaBehind as behind:
        raise click.ClickException(str(behind)) from None

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await deliver_until_stopped(database, stop)

    click.echo("delivering webhooks; stop with Ctrl-C", err=True)
    asyncio.run(run())
