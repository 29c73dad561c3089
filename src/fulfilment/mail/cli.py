"""`fulfilment mail ...`: mails sent from the command line (invitations)."""

from __future__ import annotations

import click

from .. import migrate
from ..accounts import service as accounts
from ..db import Connection, Database
from ..errors import ApiError
from ..settings import Settings, SettingsError


@click.group(name="mail")
def mail() -> None:
    """Mails: invitations. The running service sends them (see FULFILMENT_SMTP_URL)."""


@mail.command(name="invite-customer")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.argument("idfulfilment_customer", type=click.IntRange(min=1))
def invite_customer(subdomain: str, idfulfilment_customer: int) -> None:
    """Mail a customer a link to choose a portal password; following it lets the customer
    log in. The customer needs a username and an e-mail address; the link works once,
    for three days."""
    # Imported here: `fulfilment serve` must not load prometheus_client before it chooses
    # where the workers keep their metrics.
    from ..portal import recovery
    from .mailer import Mailer

    try:
        settings = Settings.from_env()
        database = Database(settings)
    except (SettingsError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    mailer = Mailer(settings)

    async def send(connection: Connection) -> str:
        account = await accounts.get_account(connection, subdomain)
        return await recovery.invite(connection, mailer, account, idfulfilment_customer)

    try:
        migrate.require_head(database)
        recipient = database.write_sync(send)
    except (migrate.MigrationStopped, migrate.SchemaBehind) as stopped:
        raise click.ClickException(str(stopped)) from None
    except ApiError as error:
        raise click.ClickException(error.message) from None
    finally:
        database.close()
    click.echo(f"invitation mailed to {recipient}", err=True)
