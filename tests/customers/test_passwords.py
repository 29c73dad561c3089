"""Passwords are stored as argon2id hashes and never appear in an answer, error or log line."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from fulfilment.db import Database
from fulfilment.tables import fulfilment_customers
from tests.factories import CUSTOMERS, Tenant

SECRET = "correct-horse-battery-staple"


def stored_hash(database: Database, customer_id: int) -> str:
    with database.engine.connect() as connection:
        value = connection.execute(
            sa.select(fulfilment_customers.c.password_hash).where(
                fulfilment_customers.c.idfulfilment_customer == customer_id
            )
        ).scalar_one()
    assert isinstance(value, str)
    return value


def test_passwords_are_stored_as_argon2id(tenant: Tenant, database: Database) -> None:
    customer = tenant.create_customer(
        name="Hashed", can_login=True, username="hashed", password=SECRET
    )

    password_hash = stored_hash(database, customer["idfulfilment_customer"])

    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert SECRET not in password_hash
    assert PasswordHasher().verify(password_hash, SECRET)


def test_changing_the_password_replaces_the_hash(tenant: Tenant, database: Database) -> None:
    customer = tenant.create_customer(
        name="Hashed", can_login=True, username="hashed", password=SECRET
    )
    before = stored_hash(database, customer["idfulfilment_customer"])

    answer = tenant.put(
        f"{CUSTOMERS}/{customer['idfulfilment_customer']}", {"password": "another-one"}
    )

    assert answer.status_code == 200
    after = stored_hash(database, customer["idfulfilment_customer"])
    assert after != before
    assert PasswordHasher().verify(after, "another-one")


def test_the_password_never_leaves_the_service(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = []
    created = tenant.post(
        CUSTOMERS,
        {"name": "Secretive", "can_login": True, "username": "secretive", "password": SECRET},
    )
    answers.append(created)
    path = f"{CUSTOMERS}/{created.json()['idfulfilment_customer']}"
    answers += [
        tenant.get(path),
        tenant.get(CUSTOMERS),
        tenant.put(path, {"password": SECRET + "!"}),
        # Refused bodies that carry a password: the error must not echo it.
        tenant.post(CUSTOMERS, {"name": "Dup", "username": "SECRETIVE", "password": SECRET}),
        tenant.post(CUSTOMERS, {"name": "", "password": SECRET}),
        tenant.post(CUSTOMERS, {"name": "Bad", "password": SECRET, "language": "xx"}),
        tenant.put(path, {"password": SECRET * 40}),
        tenant.put(path, {"password": "short"}),
        tenant.put(path, {"password": [SECRET]}),
        tenant.put(path, {"password": SECRET, "idtemplate": 999999}),
    ]

    assert [answer.status_code for answer in answers] == [200] * 4 + [400] * 7
    for answer in answers:
        assert SECRET not in answer.text
        assert "short" not in answer.text
        assert "password_hash" not in answer.text
        assert "argon2" not in answer.text
        assert "password" not in answer.json() or answer.json().get("error")
    assert SECRET not in caplog.text
    assert "short" not in caplog.text
