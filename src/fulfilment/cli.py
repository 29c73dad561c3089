"""`fulfilment`: serve the API and manage accounts, keys and reference data from a terminal."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click
import msgspec
from rich.console import Console
from rich.table import Table

from . import migrate
from .accounts import service as accounts
from .client import cli as customers_cli
from .client import history_cli, hooks_cli
from .client.terminal import labelled_time, print_table, shown
from .db import Connection, Database
from .encryption import box_for, rotate
from .errors import ApiError
from .hooks.cli import deliver as _hooks_deliver
from .identity import cli as identity_cli
from .reference import service as reference
from .reference.schemas import ShippingProvider, Template, Warehouse
from .settings import Settings, SettingsError
from .staff.cli import users as users_cli

T = TypeVar("T")
stderr = Console(stderr=True, soft_wrap=True)


@contextmanager
def _database() -> Iterator[Database]:
    try:
        database = Database(Settings.from_env())
    except (SettingsError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    try:
        yield database
    except (migrate.MigrationStopped, migrate.SchemaBehind) as stopped:
        raise click.ClickException(str(stopped)) from None
    finally:
        database.close()


def _in_transaction(
    work: Callable[[Connection], Coroutine[object, None, T]], *, upgrade: bool = False
) -> T:
    """Run `work` in one transaction; API errors become messages. The schema must be at
    this version's head: it is brought there first only with `upgrade` (the demo's setup),
    never as a side effect of another command."""
    with _database() as database:
        if upgrade:
            migrate.upgrade(database)
        else:
            migrate.require_head(database)
        try:
            return database.write_sync(work)
        except ApiError as error:
            raise click.ClickException(error.message) from None


def _require_encryption_key(database: Database) -> None:
    try:
        database.settings.require_encryption_key()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _print_json(value: object) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(value), indent=2).decode())


@click.group()
@click.version_option(package_name="fulfilment")
def main() -> None:
    """Fulfilment customers service."""


# -- serving ------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--kill-timeout",
    default=10,
    show_default=True,
    type=click.IntRange(1, 1800),
    help="Seconds a worker has to finish its requests after a stop before it is killed.",
)
def serve(host: str, port: int, workers: int, kill_timeout: int) -> None:
    """Migrate the database if needed and serve the API."""
    with _database() as database:
        _require_encryption_key(database)
        migrate.upgrade(database)
    if not os.environ.get("FULFILMENT_PORTAL_SECRET_KEY"):
        # Every worker must sign portal sessions with the same key: one for this server's run.
        stderr.print("FULFILMENT_PORTAL_SECRET_KEY is not set: portal logins end at a restart.")
        os.environ["FULFILMENT_PORTAL_SECRET_KEY"] = secrets.token_urlsafe(32)
    sys.stdout.flush()
    sys.stderr.flush()
    # The same process, started again without this one's modules: the workers it forks
    # would otherwise each carry them (about 15 MB).
    os.execv(  # noqa: S606 (a fixed program and arguments, no shell)
        sys.executable,
        [sys.executable, "-m", "fulfilment.server", "--host", host, "--port", str(port),
         "--workers", str(workers), "--kill-timeout", str(kill_timeout)],
    )  # fmt: skip


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Apply every migration that has not been applied yet."""
    with _database() as database:
        migrate.upgrade(database)
    click.echo("database is up to date", err=True)


@main.group(name="secrets")
def secrets_group() -> None:
    """Stored secrets: hooks' secrets and staff users' second-factor keys."""


@secrets_group.command(name="rotate")
def secrets_rotate() -> None:
    """Encrypt again with FULFILMENT_ENCRYPTION_KEY every stored secret that one of
    FULFILMENT_ENCRYPTION_OLD_KEYS opens."""
    with _database() as database:
        _require_encryption_key(database)
        migrate.require_head(database)
        box = box_for(database)
        done = database.write_sync(lambda connection: rotate(box, connection))
    click.echo(
        f"{done.resealed} stored secrets encrypted again with the current key, "
        f"{done.current} already were",
        err=True,
    )
    if done.unreadable:
        raise click.ClickException(
            f"{len(done.unreadable)} stored secrets cannot be read with any key given: "
            + "; ".join(done.unreadable)
            + ". Add the key they were stored with to FULFILMENT_ENCRYPTION_OLD_KEYS and run "
            "this again, or replace them: a new secret for a webhook, "
            "`fulfilment users reset-2fa` for a second factor."
        )


# -- accounts and keys --------------------------------------------------------------------


@main.group(name="accounts")
def accounts_group() -> None:
    """Accounts (tenants)."""


@accounts_group.command(name="create")
@click.argument("name")
@click.option("--subdomain", required=True, help="The account's subdomain, e.g. `acme`.")
@click.option("--timezone", default="Europe/Amsterdam", show_default=True)
def accounts_create(name: str, subdomain: str, timezone: str) -> None:
    """Create an account."""
    account = _in_transaction(lambda c: accounts.create_account(c, name, subdomain, timezone))
    _print_json(
        {
            "id": account.id,
            "name": account.name,
            "subdomain": account.subdomain,
            "timezone": account.timezone,
        }
    )


@main.group(name="apikeys")
def apikeys_group() -> None:
    """API keys."""


@apikeys_group.command(name="create")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option("--fulfilment-customer", type=int, help="Scope the key to this customer.")
@click.option("--name", default="", help="A label to recognise the key by.")
def apikeys_create(subdomain: str, fulfilment_customer: int | None, name: str) -> None:
    """Create a key and print it, alone, on standard output. It is not shown again."""

    async def create(connection: Connection) -> str:
        account = await accounts.get_account(connection, subdomain)
        _, key = await accounts.create_api_key(connection, account, name, fulfilment_customer)
        return key

    click.echo(_in_transaction(create))


@apikeys_group.command(name="revoke")
@click.option("--account", "subdomain", help="The account's subdomain (with KEY_ID).")
@click.option("--key", "key", help="The key itself, instead of --account and KEY_ID.")
@click.argument("key_id", type=int, required=False)
def apikeys_revoke(subdomain: str | None, key: str | None, key_id: int | None) -> None:
    """Revoke a key, by id (see `apikeys list`) or by its value. It answers 401 from now on."""
    if key is not None:
        _in_transaction(lambda c: accounts.revoke_api_key_by_value(c, key))
    elif subdomain is not None and key_id is not None:

        async def revoke(connection: Connection) -> None:
            account = await accounts.get_account(connection, subdomain)
            await accounts.revoke_api_key(connection, account, key_id)

        _in_transaction(revoke)
    else:
        raise click.UsageError("give --account SUBDOMAIN KEY_ID, or --key KEY")
    click.echo("revoked", err=True)


@apikeys_group.command(name="list")
@click.option("--account", "subdomain", required=True)
def apikeys_list(subdomain: str) -> None:
    """List an account's keys (never the keys themselves)."""

    async def list_keys(connection: Connection) -> tuple[str, list[accounts.ApiKeyInfo]]:
        account = await accounts.get_account(connection, subdomain)
        return account.timezone, await accounts.list_api_keys(connection, account)

    timezone, keys = _in_transaction(list_keys)
    table = Table("id", "name", "starts with", "customer", "created", "last used", "revoked")
    for key in keys:
        table.add_row(
            str(key.id),
            shown(key.name),
            key.prefix + "…",
            str(key.idfulfilment_customer or ""),
            *(
                labelled_time(moment, timezone)
                for moment in (key.created_at, key.last_used_at, key.revoked_at)
            ),
        )
    print_table(table)


# -- reference data -----------------------------------------------------------------------


@main.group(name="warehouses")
def warehouses_group() -> None:
    """Warehouses."""


@warehouses_group.command(name="create")
@click.option("--account", "subdomain", required=True)
@click.option("--name", required=True)
@click.option("--priority", default=0, show_default=True, type=int)
@click.option("--accept-orders/--no-accept-orders", default=True, show_default=True)
@click.option(
    "--counts-for-general-stock/--no-counts-for-general-stock", default=True, show_default=True
)
@click.option("--active/--inactive", default=True, show_default=True)
def warehouses_create(
    subdomain: str,
    name: str,
    priority: int,
    accept_orders: bool,
    counts_for_general_stock: bool,
    active: bool,
) -> None:
    """Create a warehouse and print it as JSON."""

    async def create(connection: Connection) -> Warehouse:
        return await reference.create_warehouse(
            connection,
            (await accounts.get_account(connection, subdomain)).id,
            name,
            priority=priority,
            accept_orders=accept_orders,
            counts_for_general_stock=counts_for_general_stock,
            active=active,
        )

    _print_json(_in_transaction(create))


@main.group(name="templates")
def templates_group() -> None:
    """Templates."""


@templates_group.command(name="create")
@click.option("--account", "subdomain", required=True)
@click.option("--name", required=True)
@click.option("--default", "is_default", is_flag=True, help="Make it the account's default.")
def templates_create(subdomain: str, name: str, is_default: bool) -> None:
    """Create a template and print it as JSON."""

    async def create(connection: Connection) -> Template:
        account = await accounts.get_account(connection, subdomain)
        return await reference.create_template(connection, account.id, name, default=is_default)

    _print_json(_in_transaction(create))


@main.group(name="shippingproviders")
def shippingproviders_group() -> None:
    """Shipping providers and their profiles."""


@shippingproviders_group.command(name="create")
@click.option("--account", "subdomain", required=True)
@click.option("--name", required=True)
@click.option("--provider", required=True, help="The carrier, e.g. `PostNL`.")
@click.option("--profile", "profiles", multiple=True, required=True, help="A profile name; repeat.")
def shippingproviders_create(
    subdomain: str, name: str, provider: str, profiles: tuple[str, ...]
) -> None:
    """Create a shipping provider with its profiles and print it as JSON."""

    async def create(connection: Connection) -> ShippingProvider:
        account = await accounts.get_account(connection, subdomain)
        return await reference.create_shipping_provider(
            connection, account.id, name, provider, list(profiles)
        )

    _print_json(_in_transaction(create))


customers_cli.customers.add_command(history_cli.history_command)
main.add_command(customers_cli.customers)
main.add_command(users_cli)
# The client's hooks commands, and the operator's `deliver` beside them.
hooks_cli.hooks.add_command(_hooks_deliver)
main.add_command(hooks_cli.hooks)
main.add_command(identity_cli.mail)


# -- the demo -----------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Migrate the database if needed, set up (or reuse) the `demo` account with a staff
    user and a few customers, and print how to reach each part with a new API key."""
    from . import demo as demo_account

    with _database() as database:
        migrate.upgrade(database)
        made = demo_account.set_up(database)
    site = f"http://{host}:{port}"
    if made.account_made:
        click.echo(f"Made the demo account {made.account_name!r} ({demo_account.DEMO_SUBDOMAIN}).")
    else:
        click.echo(
            f"Reusing the demo account {made.account_name!r} ({demo_account.DEMO_SUBDOMAIN}) "
            "with its staff user and customers."
        )
    if made.customers_made:
        click.echo(f"Added {made.customers_made} demo customers, in Dutch and English.")
    click.echo("")
    click.echo(f"API key:     {made.api_key}   (new; earlier keys keep working)")
    click.echo(f"Try:         curl -u {made.api_key}:X {site}/api/v1/fulfilment/customers")
    click.echo(f"API console: {site}/docs")
    click.echo(f"Back office: {site}/admin/{demo_account.DEMO_SUBDOMAIN}/")
    click.echo(_login(demo_account.STAFF_USERNAME, made.staff_password))
    click.echo(f"Portal:      {site}/portal/{demo_account.DEMO_SUBDOMAIN}/")
    click.echo(_login(demo_account.PORTAL_USERNAME, made.portal_password))


def _login(username: str, password: str | None) -> str:
    if password is None:
        return f"             log in as {username} (the password printed when it was made)"
    return f"             log in as {username}, password {password} (shown this once)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
