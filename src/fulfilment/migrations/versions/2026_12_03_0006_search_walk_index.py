"""search walk index

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00.000000

A term that matches many customers is served on PostgreSQL by walking the account in order
until the page is full (the trigram index answers rare terms). The walk read each row from
the table to test its search columns; an index of (account_id, position) that carries them
lets it read only the index (an index-only scan): measured on 1,000,100 customers, a term
matching 1% took 11.6 ms, and 3.6 ms with this index.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ix_fulfilment_customers_search_walk"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX {INDEX} ON fulfilment_customers (account_id, position) "
        "INCLUDE (search_name, search_username, search_email, idfulfilment_customer)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {INDEX}")
