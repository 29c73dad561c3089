"""`fulfilment hooks deliver`: the engine alone (webhook deliveries, mails and periodic
work), for an instance that serves no requests (or for one started with
FULFILMENT_HOOKS_WORKER=false)."""

from __future__ import annotations

import asyncio
import signal

import click
from msgspec.structs import replace

from .. import migrate
from ..db import Database
from ..jobs import kinds as jobs
from ..settings import Settings, SettingsError


@click.command(name="deliver")
def deliver() -> None:
    """Deliver due webhook deliveries until stopped (SIGTERM or Ctrl-C)."""
    try:
        settings = Settings.from_env()
        settings.require_encryption_key()
        database = Database(replace(settings, hooks_worker=True))
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
        await database.start()
        engine = jobs.engine(database)
        engine.start()
        await stop.wait()
        await engine.stop()
        await database.aclose()

    click.echo("delivering webhooks; stop with Ctrl-C", err=True)
    asyncio.run(run())
