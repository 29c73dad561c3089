"""PostgreSQL keeps a larger sample of the search columns, so that its choice between the
walk and the trigram index does not swing between analyses (migration 0012)."""

from __future__ import annotations

import sqlalchemy as sa

STATISTICS = sa.text(
    "SELECT attname, attstattarget FROM pg_attribute "
    "WHERE attrelid = 'fulfilment_customers'::regclass "
    "AND attname IN ('search_name', 'search_username', 'search_email', 'name')"
)


def test_the_search_columns_keep_a_sample_of_a_thousand(postgres_database: str) -> None:
    engine = sa.create_engine(sa.make_url(postgres_database).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            targets = dict(connection.execute(STATISTICS).all())
    finally:
        engine.dispose()
    assert targets["search_name"] == targets["search_username"] == targets["search_email"] == 1000
    # Other columns keep the server's default.
    assert targets["name"] in (-1, None)
