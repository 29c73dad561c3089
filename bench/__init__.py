"""The benchmark harness: the service against a minimal ASGI baseline, on SQLite and
PostgreSQL, one server core and one load core. Run it with `python -m bench`."""
