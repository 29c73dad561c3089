"""`fulfilment mail ...`: mails sent from the command line (invitations to log in)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING

import click

from .. import migrate
from ..accounts import service as accounts
from ..db import Connection, Database
from ..errors import ApiError
from ..settings import Settings, SettingsError

if TYPE_CHECKING:
    from ..mail.mailer import Mailer


@click.group(name="mail")
def mail() -> None:
    """Mails: invitations. The running service sends them (see FULFILMENT_SMTP_URL)."""


def _mail_from_cli(
    work: Callable[[Connection, Mailer, Settings], Coroutine[object, None, str]],
) -> str:
    """Run `work` in one transaction with a Mailer; errors become messages. Links in mails
    start with FULFILMENT_PUBLIC_URL: without it, nothing is mailed."""
    try:
        settings = Settings.from_env()
        database = Database(settings)
    except (SettingsError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    if settings.public_url is None:
        database.close()
        raise click.ClickException(
            "FULFILMENT_PUBLIC_URL is not set: links in mails start with the service's "
            "public address (https://portal.example.com)"
        )
    from ..mail.mailer import Mailer

    mailer = Mailer(settings)
    try:
        migrate.require_head(database)
        return database.write_sync(lambda connection: work(connection, mailer, settings))
    except (migrate.MigrationStopped, migrate.SchemaBehind) as stopped:
        raise click.ClickException(str(stopped)) from None
    except ApiError as error:
        raise click.ClickException(error.message) from None
    finally:
        database.close()


@mail.command(name="invite-customer")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.argument("idfulfilment_customer", type=click.IntRange(min=1))
def invite_customer(subdomain: str, idfulfilment_customer: int) -> None:
    """Mail a customer a link to choose a portal password; following it lets the customer
    log in. The customer needs a username and an e-mail address; the link works once,
    for FULFILMENT_INVITATION_DAYS days (7)."""
    # Imported here: `fulfilment serve` must not load prometheus_client before it chooses
    # where the workers keep their metrics.
    from . import links
    from .kinds import CUSTOMER

    async def send(connection: Connection, mailer: Mailer, settings: Settings) -> str:
        account = await accounts.get_account(connection, subdomain)
        lifetime = links.invitation_lifetime(settings)
        return await links.invite(
            connection, mailer, CUSTOMER, account, idfulfilment_customer, lifetime
        )

    click.echo(f"invitation mailed to {_mail_from_cli(send)}", err=True)


@mail.command(name="invite-user")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.argument("username")
def invite_user(subdomain: str, username: str) -> None:
    """Mail an active staff user a link to choose a back-office password; the link works
    once, for FULFILMENT_INVITATION_DAYS days (7)."""
    from . import links
    from .kinds import STAFF

    async def send(connection: Connection, mailer: Mailer, settings: Settings) -> str:
        account = await accounts.get_account(connection, subdomain)
        person_id = await links.person_named(connection, STAFF, account, username)
        lifetime = links.invitation_lifetime(settings)
        return await links.invite(connection, mailer, STAFF, account, person_id, lifetime)

    click.echo(f"invitation mailed to {_mail_from_cli(send)}", err=True)
