"""The demo account the README's first command sets up: reused, never duplicated."""

from __future__ import annotations

from ..db import Connection
from ..reference import service as reference
from . import service as accounts

DEMO_SUBDOMAIN = "demo"


async def ensure_demo_account(connection: Connection) -> str:
    """Create the demo account with its reference data once; return a fresh API key."""
    account = await accounts.find_account(connection, DEMO_SUBDOMAIN)
    if account is None:
        account = await accounts.create_account(connection, "Demo Warehousing", DEMO_SUBDOMAIN)
        await reference.create_warehouse(connection, account.id, "Main warehouse")
        await reference.create_template(
            connection, account.id, "Default packing slip", default=True
        )
        await reference.create_shipping_provider(
            connection, account.id, "PostNL", "PostNL", ["Standard parcel", "Signature on delivery"]
        )
    _, key = await accounts.create_api_key(connection, account, "demo")
    return key
