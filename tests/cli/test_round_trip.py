"""An export imported into an empty account gives the same customers, every field of them:
`fulfilment customers export` on one server, `import` on another, both over TCP."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import msgspec
from click.testing import CliRunner, Result

from fulfilment.cli import main
from fulfilment.client import Client
from fulfilment.fields import OUTPUT_FIELDS
from tests.live import LiveAccount, LiveServer, live_server

PASSWORD = "a long password"


def _run(server: LiveServer, account: LiveAccount, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        ["customers", *args],
        env={"FULFILMENT_URL": server.url, "FULFILMENT_API_KEY": account.key},
        catch_exceptions=False,
    )


def _customers(server: LiveServer, account: LiveAccount) -> list[dict[str, Any]]:
    """Every customer with every field the API answers, as GET one answers it."""
    with Client(server.url, api_key=account.key) as client:
        return [
            msgspec.structs.asdict(client.customers.get(listed.idfulfilment_customer))
            for listed in client.customers.list()
        ]


def _fill(account: LiveAccount) -> list[dict[str, Any]]:
    """Customers that set every writable field, with values a spreadsheet would run, ids in
    an order of their own, and none set at all."""
    first, second = account.profiles
    return [
        {"name": "Plain"},
        {
            "name": '=HYPERLINK("x"), "quoted"',
            "username": "-dash",
            "emailaddress": "+info@acme.example",
            "language": "en",
            "idtemplate": account.template,
            "preferred_idwarehouse": account.warehouse,
            "allowed_shipping_profiles": [second, first],
        },
        {"name": "Zoë\nSecond line", "username": "@zoe", "allowed_shipping_profiles": [first]},
        {"name": "'=already quoted", "language": "en", "emailaddress": "zoe@acme.example"},
        {
            "name": "Login",
            "username": "login",
            "can_login": True,
            "password": PASSWORD,
            "allowed_shipping_profiles": [second],
            "idtemplate": account.template,
        },
    ]


def _add_passwords(path: Path) -> None:
    """An export never holds a password (only its hash is stored): a customer who may log
    in needs one written into the file before it is imported."""
    with path.open(newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    header = [*rows[0], "password"]
    for row in rows:
        row["password"] = PASSWORD if row["can_login"] == "true" else ""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_an_export_imports_into_an_empty_account_as_the_same_customers(tmp_path: Path) -> None:
    # Two fresh servers set up alike, so the warehouse, template and profile ids match.
    with (
        live_server(tmp_path / "source") as source,
        live_server(tmp_path / "target") as target,
    ):
        here, there = source.create_account("acme"), target.create_account("acme")
        assert (here.warehouse, here.template, here.profiles) == (
            there.warehouse,
            there.template,
            there.profiles,
        )
        with Client(source.url, api_key=here.key) as client:
            for fields in _fill(here):
                client.customers.create(**fields)
        exported = tmp_path / "customers.csv"
        lines = tmp_path / "customers.jsonl"

        assert _run(source, here, "export", "-o", str(exported)).exit_code == 0
        assert _run(source, here, "export", "-o", str(lines)).exit_code == 0
        with exported.open(newline="", encoding="utf-8") as written:
            header = next(csv.reader(written))
        _add_passwords(exported)
        imported = _run(target, there, "import", str(exported))

        assert imported.exit_code == 0, imported.output
        before = _customers(source, here)
        assert _customers(target, there) == before
        # Every field of the answer was in the file, the shipping profiles too.
        assert header == [field.name for field in OUTPUT_FIELDS]
        assert before[1]["allowed_shipping_profiles"] == here.profiles[::-1]
        assert [json.loads(line) for line in lines.read_text().splitlines()] == before
