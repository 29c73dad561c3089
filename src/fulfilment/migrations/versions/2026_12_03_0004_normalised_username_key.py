"""normalised username_key

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00.000000

Usernames are now compared after Unicode compatibility normalisation (NFKC) as well as case
folding, so that look-alikes ("partners" in fullwidth letters beside "partners", "é" beside
"e" with a combining accent) are one username. This recomputes every stored key. Two
usernames of one account that become the same key stop the migration, naming them: merging
them silently would lock one customer out of the portal, so an operator renames one first.

The key function is written out here rather than imported, so that this migration keeps
doing what it did when the application's function changes later.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from fulfilment.migrate import MigrationStopped

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEY_MAX = 300

customers = sa.table(
    "fulfilment_customers",
    sa.column("idfulfilment_customer", sa.BigInteger()),
    sa.column("account_id", sa.BigInteger()),
    sa.column("username", sa.String()),
    sa.column("username_key", sa.String()),
)
accounts = sa.table("accounts", sa.column("id", sa.BigInteger()), sa.column("subdomain"))


def normalised_key(username: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def case_folded_key(username: str) -> str:
    return username.casefold()


def upgrade() -> None:
    _rekey(normalised_key)


def downgrade() -> None:
    _rekey(case_folded_key)


def _rekey(key_of: Callable[[str], str]) -> None:
    connection = op.get_bind()
    # (id, account, username, new key) of the rows whose key changes; usually few.
    changed: list[tuple[int, int, str, str]] = []
    # Read in batches: an account may hold a million customers.
    rows = connection.execute(
        sa.select(
            customers.c.idfulfilment_customer,
            customers.c.account_id,
            customers.c.username,
            customers.c.username_key,
        ).where(customers.c.username.is_not(None)),
        execution_options={"yield_per": 10_000},
    )
    for customer_id, account_id, username, stored_key in rows:
        key = key_of(username)
        if key != stored_key:
            changed.append((customer_id, account_id, username, key))
    _check(connection, changed)
    if not changed:
        return
    # Cleared first, then set: a row's new key may be another changed row's old one, and
    # the unique constraint holds after every single statement. NULL keys never clash.
    update = (
        sa.update(customers)
        .where(customers.c.idfulfilment_customer == sa.bindparam("customer_id"))
        .values(username_key=sa.bindparam("key"))
    )
    connection.execute(update, [{"customer_id": row[0], "key": None} for row in changed])
    connection.execute(update, [{"customer_id": row[0], "key": row[3]} for row in changed])


def _check(connection: sa.Connection, changed: list[tuple[int, int, str, str]]) -> None:
    """Stop, naming every clash, when two usernames of one account would share a key."""
    changed_ids = {row[0] for row in changed}
    clashes: dict[tuple[int, str], set[tuple[int, str]]] = defaultdict(set)
    too_long: list[tuple[int, int, str]] = []
    for customer_id, account_id, username, key in changed:
        if len(key) > KEY_MAX:
            too_long.append((account_id, customer_id, username))
            continue
        clashes[account_id, key].add((customer_id, username))
        holders = connection.execute(
            sa.select(customers.c.idfulfilment_customer, customers.c.username).where(
                customers.c.account_id == account_id, customers.c.username_key == key
            )
        )
        for holder_id, holder_username in holders:
            if holder_id not in changed_ids:
                clashes[account_id, key].add((holder_id, holder_username))
    problems = [
        f"account {_subdomain(connection, account_id)!r}: usernames "
        + ", ".join(
            f"{username!r} (customer {customer_id})" for customer_id, username in sorted(same)
        )
        + " are the same username now"
        for (account_id, _), same in sorted(clashes.items(), key=lambda item: item[0][0])
        if len(same) > 1
    ]
    problems += [
        f"account {_subdomain(connection, account_id)!r}: username {username!r} "
        f"(customer {customer_id}) is longer than {KEY_MAX} characters once normalised"
        for account_id, customer_id, username in too_long
    ]
    if problems:
        raise MigrationStopped(
            "usernames are compared after Unicode normalisation (NFKC) and case folding from "
            "now on, and some stored ones clash; change them (PUT "
            "/api/v1/fulfilment/customers/{id} with a new username) on the previous version, "
            "then upgrade again:\n  " + "\n  ".join(problems)
        )


def _subdomain(connection: sa.Connection, account_id: int) -> str:
    found = connection.execute(
        sa.select(accounts.c.subdomain).where(accounts.c.id == account_id)
    ).scalar()
    return str(found) if found is not None else str(account_id)
