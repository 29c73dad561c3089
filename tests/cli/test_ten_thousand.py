"""Ten thousand customers imported from CSV and exported again, compared field by field."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from tests.live import LiveAccount

from .conftest import Run

COUNT = 10_000
HEADER = [
    "name", "username", "emailaddress", "language", "idtemplate",
    "allowed_shipping_profiles", "preferred_idwarehouse",
]  # fmt: skip


def source_rows(account: LiveAccount) -> list[dict[str, str]]:
    rows = []
    for number in range(COUNT):
        rows.append(
            {
                "name": f'Klant {number}, "Ölfabriek" B.V.'
                if number % 7 == 0
                else f"Shop {number}",
                "username": f"user{number}" if number % 2 == 0 else "",
                "emailaddress": f"info{number}@shop.test" if number % 3 == 0 else "",
                "language": "en" if number % 4 == 0 else "nl",
                "idtemplate": str(account.template) if number % 5 == 0 else "",
                "allowed_shipping_profiles": (
                    f"{account.profiles[1]};{account.profiles[0]}" if number % 11 == 0 else ""
                ),
                "preferred_idwarehouse": str(account.warehouse) if number % 2 else "",
            }
        )
    return rows


def test_import_and_export_ten_thousand_customers(
    run: Run, account: LiveAccount, tmp_path: Path
) -> None:
    rows = source_rows(account)
    source = tmp_path / "customers.csv"
    with source.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, HEADER)
        writer.writeheader()
        writer.writerows(rows)

    imported = run("import", str(source), "--jobs", "4")

    assert imported.exit_code == 0, imported.output
    assert f"{COUNT} rows: {COUNT} to create, 0 to update, 0 bad" in imported.stderr
    assert re.search(rf"imported {COUNT} rows in [\d.]+ s \(\d+ rows/s\)", imported.stderr)

    as_csv = tmp_path / "export.csv"
    as_jsonl = tmp_path / "export.jsonl"
    assert run("export", "--output", str(as_csv)).exit_code == 0
    assert run("export", "--output", str(as_jsonl)).exit_code == 0

    with as_csv.open(newline="", encoding="utf-8") as exported_csv:
        exported = list(csv.DictReader(exported_csv))
    lines = [json.loads(line) for line in as_jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(exported) == len(lines) == COUNT
    ids = [int(row["idfulfilment_customer"]) for row in exported]
    assert ids == sorted(ids)
    assert [line["idfulfilment_customer"] for line in lines] == ids
    # Four rows at a time: ids follow the file's order only roughly, so match by name.
    order = {row["name"]: number for number, row in enumerate(rows)}
    exported.sort(key=lambda row: order[row["name"]])
    lines.sort(key=lambda line: order[line["name"]])
    ids = [int(row["idfulfilment_customer"]) for row in exported]
    for wanted, got, line in zip(rows, exported, lines, strict=True):
        for name in HEADER:
            assert got[name] == wanted[name], (name, wanted, got)
            if name == "allowed_shipping_profiles":
                assert line[name] == [int(part) for part in wanted[name].split(";") if part]
                continue
            assert line[name] == (
                int(wanted[name]) if wanted[name] and name.startswith(("id", "preferred"))
                else wanted[name] or (None if name != "language" else "nl")
            )  # fmt: skip
        assert got["can_login"] == "false"
        assert line["can_login"] is False
        assert got["last_login_at"] == ""
