"""Fixtures of the tests of what both sites share: the portal's customers and the back
office's staff users, on an account whose mails go to a real SMTP server."""

from __future__ import annotations

import pytest

from fulfilment.settings import Settings
from tests.admin.conftest import anna, piet  # noqa: F401
from tests.portal.conftest import jansen  # noqa: F401
from tests.servers import ENCRYPTION_KEY

# Where people reach the service; every test client here sends another Host.
PUBLIC_URL = "https://portal.example.com"


@pytest.fixture
def settings(database_url: str, smtp_port: int) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        mail_from="office@warehouse.example",
        public_url=PUBLIC_URL,
        encryption_key=ENCRYPTION_KEY,
    )
