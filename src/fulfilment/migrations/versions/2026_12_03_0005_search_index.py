"""search by index

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00.000000

`search` matched one joined text column with a scan of the account. Each field's case-folded
text now has a column of its own, so that a term never matches across two fields, and an
index of trigrams serves the match: pg_trgm's GIN operator class on PostgreSQL, an FTS5 table
with the trigram tokenizer on SQLite, kept current by triggers.

On PostgreSQL the migration creates the pg_trgm extension. A database user who may not
create extensions gets a message saying what to ask of the database's owner.
"""

from __future__ import annotations

# ruff: noqa: S608 - statements built from this file's own constants
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FIELDS = ("search_name", "search_username", "search_email")
FTS = "fulfilment_customer_search"
SEPARATOR = "char(31)"


def _pg_trgm() -> None:
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first():
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as error:
        database = bind.exec_driver_sql("SELECT current_database()").scalar_one()
        raise SystemExit(
            "The search index needs PostgreSQL's pg_trgm extension, and this database user "
            f"may not create it ({error.orig}). Ask the owner of the database to run\n"
            f'    CREATE EXTENSION pg_trgm;\nin database "{database}" (it ships with '
            "PostgreSQL's contrib modules), then run `fulfilment db upgrade` again."
        ) from None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("fulfilment_customers") as batch_op:
        for field in FIELDS:
            batch_op.add_column(sa.Column(field, sa.Text(), nullable=False, server_default=""))
    # search_text held casefold(name), casefold(username) and casefold(e-mail) joined by U+001F.
    if postgres:
        op.execute(
            "UPDATE fulfilment_customers SET"
            " search_name = split_part(search_text, chr(31), 1),"
            " search_username = split_part(search_text, chr(31), 2),"
            " search_email = split_part(search_text, chr(31), 3)"
        )
    else:
        rest = f"substr(search_text, instr(search_text, {SEPARATOR}) + 1)"
        op.execute(
            "UPDATE fulfilment_customers SET"
            f" search_name = substr(search_text, 1, instr(search_text, {SEPARATOR}) - 1),"
            f" search_username = substr({rest}, 1, instr({rest}, {SEPARATOR}) - 1),"
            f" search_email = substr({rest}, instr({rest}, {SEPARATOR}) + 1)"
        )
    with op.batch_alter_table("fulfilment_customers") as batch_op:
        batch_op.drop_column("search_text")
    if postgres:
        _pg_trgm()
        op.execute(
            "CREATE INDEX ix_fulfilment_customers_search ON fulfilment_customers USING gin "
            f"({', '.join(f'{field} gin_trgm_ops' for field in FIELDS)})"
        )
        return
    columns = ", ".join(FIELDS)
    new = ", ".join(f"new.{field}" for field in FIELDS)
    old = ", ".join(f"old.{field}" for field in FIELDS)
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS} USING fts5({columns}, content='fulfilment_customers', "
        "content_rowid='idfulfilment_customer', tokenize='trigram case_sensitive 1')"
    )
    op.execute(
        f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON fulfilment_customers BEGIN "
        f"INSERT INTO {FTS}(rowid, {columns}) VALUES (new.idfulfilment_customer, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF {columns} ON fulfilment_customers BEGIN "
        f"INSERT INTO {FTS}({FTS}, rowid, {columns}) "
        f"VALUES ('delete', old.idfulfilment_customer, {old}); "
        f"INSERT INTO {FTS}(rowid, {columns}) VALUES (new.idfulfilment_customer, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON fulfilment_customers BEGIN "
        f"INSERT INTO {FTS}({FTS}, rowid, {columns}) "
        f"VALUES ('delete', old.idfulfilment_customer, {old}); END"
    )
    op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP INDEX ix_fulfilment_customers_search")
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {FTS}_{trigger}")
        op.execute(f"DROP TABLE {FTS}")
    with op.batch_alter_table("fulfilment_customers") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE fulfilment_customers SET search_text = "
        + (" || chr(31) || " if postgres else f" || {SEPARATOR} || ").join(FIELDS)
    )
    with op.batch_alter_table("fulfilment_customers") as batch_op:
        for field in FIELDS:
            batch_op.drop_column(field)
