"""Database access: the engine for migrations, and the path requests take, where statements
are compiled once per dialect and run on the driver.

A unit of work is a coroutine function taking a `Connection` (units.py). On PostgreSQL it
runs on a connection of psycopg's async pool, so that waiting for the server never holds
up the event loop (postgres.py). On SQLite, a local file, the connection's coroutines
complete without ever suspending: short indexed reads run to completion on the event loop
itself, where they cost least, long reads on threads of their own, and writes on the one
writer thread, which commits those waiting together (sqlite.py, group_commit.py). The
command line runs the same units on blocking connections (`write_sync`).

A `Query` pairs a statement with the NamedTuple its rows become (rows.py): declare it
beside the statement, and `connection.one`/`all` hand back rows read by name."""

from .database import Database, database_url
from .rows import Query
from .sqlite import ChangeMarker
from .units import AsyncConnection, BlockingConnection, Connection, Params, Work, run_to_completion

__all__ = [
    "AsyncConnection",
    "BlockingConnection",
    "ChangeMarker",
    "Connection",
    "Database",
    "Params",
    "Query",
    "Work",
    "database_url",
    "run_to_completion",
]
