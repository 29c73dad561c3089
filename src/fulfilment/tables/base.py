"""What every table shares: the metadata with its naming convention, and the id columns."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Ids are 64-bit on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def primary_id(name: str) -> sa.Column[int]:
    return sa.Column(name, Id, primary_key=True, autoincrement=True)


def account_column() -> sa.Column[int]:
    return sa.Column(
        "account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
