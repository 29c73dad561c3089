"""Fixtures of the mail tests: a real SMTP server, a certificate, an account."""

from __future__ import annotations

from pathlib import Path

import pytest

from fulfilment.accounts import service as accounts
from fulfilment.db import Database
from tests.servers import Certificate, make_certificate


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def account(database: Database) -> accounts.Account:
    return database.write_sync(
        lambda connection: accounts.create_account(connection, "Acme BV", "acme")
    )


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
