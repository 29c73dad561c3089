"""`fulfilment users`: the operator's commands for staff users of the back office."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from typing import TypeVar

import click
import msgspec
from rich.table import Table

from .. import migrate
from ..accounts.service import get_account
from ..client.terminal import labelled_time, print_table, shown
from ..db import Connection, Database
from ..errors import ApiError
from ..fields import LANGUAGES
from ..passwords import hash_password_sync
from ..settings import Settings, SettingsError
from . import service
from .schemas import User

T = TypeVar("T")


def _in_transaction(work: Callable[[Connection], Coroutine[object, None, T]]) -> T:
    try:
        database = Database(Settings.from_env())
    except (SettingsError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    try:
        migrate.require_head(database)
        return database.write_sync(work)
    except (migrate.MigrationStopped, migrate.SchemaBehind) as stopped:
        raise click.ClickException(str(stopped)) from None
    except database.IntegrityError:
        # Another command took the username between the check and the insert.
        raise click.ClickException("username is already used by another staff user.") from None
    except ApiError as error:
        raise click.ClickException(error.message) from None
    finally:
        database.close()


@click.group(name="users")
def users() -> None:
    """Staff users of the back office."""


@users.command(name="create")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option("--username", required=True)
@click.option("--email", "emailaddress", required=True)
@click.option("--firstname")
@click.option("--lastname")
@click.option("--language", type=click.Choice(LANGUAGES), default=LANGUAGES[0], show_default=True)
@click.option("--admin", is_flag=True, help="May change the account's back-office settings.")
@click.option(
    "--password-stdin", is_flag=True, required=True, help="Read the password from standard input."
)
def users_create(
    subdomain: str,
    username: str,
    emailaddress: str,
    firstname: str | None,
    lastname: str | None,
    language: str,
    admin: bool,
    password_stdin: bool,
) -> None:
    """Create a staff user and print it as JSON."""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        new = service.NewUser(
            username=username,
            emailaddress=emailaddress,
            firstname=firstname,
            lastname=lastname,
            language=language,
            admin=admin,
        ).checked()
        service.check_password(password)
    except ApiError as error:
        raise click.ClickException(error.message) from None
    password_hash = hash_password_sync(password)

    async def create(connection: Connection) -> User:
        account = await get_account(connection, subdomain)
        return await service.create_user(connection, account, new, password_hash)

    user = _in_transaction(create)
    click.echo(msgspec.json.format(msgspec.json.encode(user), indent=2).decode())


@users.command(name="list")
@click.option("--account", "subdomain", required=True)
def users_list(subdomain: str) -> None:
    """List the account's staff users."""

    async def read(connection: Connection) -> tuple[str, list[User]]:
        account = await get_account(connection, subdomain)
        return account.timezone, await service.all_users(connection, account)

    table = Table(
        "iduser", "username", "name", "e-mail", "language", "admin", "active", "last login"
    )
    timezone, found = _in_transaction(read)
    for user in found:
        name = " ".join(part for part in (user.firstname, user.lastname) if part)
        table.add_row(
            str(user.iduser),
            shown(user.username),
            shown(name),
            shown(user.emailaddress),
            user.language,
            "yes" if user.admin else "no",
            "yes" if user.active else "no",
            labelled_time(user.last_login_at, timezone),
        )
    print_table(table)


@users.command(name="deactivate")
@click.option("--account", "subdomain", required=True)
@click.argument("username")
def users_deactivate(subdomain: str, username: str) -> None:
    """The user can no longer log in; its sessions end."""

    async def work(connection: Connection) -> None:
        await service.deactivate(connection, await get_account(connection, subdomain), username)

    _in_transaction(work)
    click.echo("deactivated", err=True)


@users.command(name="reset-2fa")
@click.option("--account", "subdomain", required=True)
@click.argument("username")
def users_reset_second_factor(subdomain: str, username: str) -> None:
    """Forget the user's second factor and recovery codes; it enrols again at its next login."""

    async def work(connection: Connection) -> None:
        await service.reset_second_factor(
            connection, await get_account(connection, subdomain), username
        )

    _in_transaction(work)
    click.echo("second factor reset", err=True)
