"""The operator's tools treat what the server holds as data: no terminal escape reaches the
terminal, no rich markup is interpreted, no CSV cell runs as a spreadsheet formula, and
look-alike or invisible usernames in an import are caught before anything is sent."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fulfilment.client import Client
from tests.factories import fullwidth
from tests.live import LiveAccount, LiveServer

from .conftest import Run
from .test_import_export import write_csv

# Clears the screen, sets the window title, and rings the bell.
ESCAPES = "Evil\x1b[2J\x1b]0;pwned\x07 BV\x9b31m"
MARKUP = "[bold red]Acme[/bold red] [link=https://evil.example]BV[/link]"
FORMULAS = [
    '=HYPERLINK("https://evil.example","Click")',
    "+31 20 123 4567",
    "-5+3",
    "@SUM(A1:A9)",
    "'=already quoted",
    "''=twice quoted",
]


def create(server: LiveServer, account: LiveAccount, **fields: object) -> int:
    with Client(server.url, api_key=account.key) as client:
        return client.customers.create(**fields).idfulfilment_customer  # type: ignore[arg-type]


def names(server: LiveServer, account: LiveAccount) -> list[str]:
    with Client(server.url, api_key=account.key) as client:
        return [customer.name for customer in client.customers.list()]


def test_list_and_get_show_control_characters_as_escapes(
    run: Run, server: LiveServer, account: LiveAccount
) -> None:
    number = create(server, account, name=ESCAPES, emailaddress="ops@evil.example")

    shown = [run("list"), run("get", str(number))]

    for result in shown:
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout
        assert "\x07" not in result.stdout
        assert "\x9b" not in result.stdout
        assert "Evil\\x1b[2J\\x1b]0;pwned\\x07 BV\\x9b31m" in result.stdout


def test_list_and_get_do_not_read_names_as_markup(
    run: Run, server: LiveServer, account: LiveAccount
) -> None:
    number = create(server, account, name=MARKUP)

    for result in (run("list"), run("get", str(number))):
        assert result.exit_code == 0, result.output
        assert MARKUP in result.stdout


def test_json_output_keeps_the_stored_values(
    run: Run, server: LiveServer, account: LiveAccount
) -> None:
    number = create(server, account, name=ESCAPES)

    assert json.loads(run("get", str(number), "--json").stdout)["name"] == ESCAPES
    assert [c["name"] for c in json.loads(run("list", "--json").stdout)] == [ESCAPES]


def test_csv_export_quotes_values_a_spreadsheet_would_run(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    for formula in FORMULAS:
        create(server, account, name=formula)
    create(server, account, name="Plain", username="@acme", emailaddress="-ops@acme.example")
    exported = tmp_path / "export.csv"

    assert run("export", "-o", str(exported)).exit_code == 0

    with exported.open(newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    assert [row["name"] for row in rows[: len(FORMULAS)]] == ["'" + f for f in FORMULAS]
    assert (rows[-1]["name"], rows[-1]["username"], rows[-1]["emailaddress"]) == (
        "Plain",
        "'@acme",
        "'-ops@acme.example",
    )


def test_a_raw_csv_export_writes_values_as_stored(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    for formula in FORMULAS:
        create(server, account, name=formula)
    exported = tmp_path / "export.csv"

    assert run("export", "-o", str(exported), "--raw").exit_code == 0

    with exported.open(newline="", encoding="utf-8") as source:
        assert [row["name"] for row in csv.DictReader(source)] == FORMULAS


@pytest.mark.parametrize("raw", [False, True])
def test_an_export_with_formula_like_values_imports_as_it_was(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path, raw: bool
) -> None:
    for formula in FORMULAS:
        create(server, account, name=formula)
    create(server, account, name="Plain", username="=acme", emailaddress="-ops@acme.example")
    exported = tmp_path / "export.csv"
    flag = ["--raw"] if raw else []
    assert run("export", "-o", str(exported), *flag).exit_code == 0
    other = server.create_account(f"{account.subdomain}copy")

    result = run("import", str(exported), *flag, FULFILMENT_API_KEY=other.key)

    assert result.exit_code == 0, result.output
    with Client(server.url, api_key=other.key) as client:
        copied = list(client.customers.list())
    assert [customer.name for customer in copied] == [*FORMULAS, "Plain"]
    assert (copied[-1].username, copied[-1].emailaddress) == ("=acme", "-ops@acme.example")


def test_json_lines_exports_are_not_quoted(
    run: Run, server: LiveServer, account: LiveAccount
) -> None:
    create(server, account, name=FORMULAS[0])

    result = run("export", "--format", "jsonl")

    assert json.loads(result.stdout.splitlines()[0])["name"] == FORMULAS[0]


def test_an_import_catches_look_alike_and_invisible_usernames(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    partners = create(server, account, name="Partners", username="partners")
    path = write_csv(
        tmp_path / "customers.csv",
        ["name", "username", "emailaddress"],
        ["Wide", fullwidth("partners"), ""],
        ["Hidden", "part\u200bners", ""],
        ["Accent", "\u00e9mile", ""],
        ["Combining", "e\u0301mile", ""],
        ["Mail", "mail", "info\x1b[2J@mail.example"],
    )

    result = run("import", str(path))

    assert result.exit_code == 6
    reported = [line for line in result.stderr.splitlines() if line.startswith("customers.csv")]
    assert reported == [
        f"customers.csv: line 2: username '{fullwidth('partners')}' is already used by "
        f"fulfilment customer {partners} (use --upsert to update it)",
        "customers.csv: line 3: username may not contain control or invisible characters (U+200B)",
        "customers.csv: line 5: username 'e\u0301mile' is also on line 4",
        "customers.csv: line 6: emailaddress may not contain control or invisible characters "
        "(U+001B)",
    ]
    assert "\x1b" not in result.stderr
    assert names(server, account) == ["Partners"]


def test_messages_about_files_reach_the_terminal_escaped(run: Run, tmp_path: Path) -> None:
    bad_row = write_csv(tmp_path / "bad\x1b[2J.csv", ["name", "language"], ["Acme", "de"])
    missing = tmp_path / "missing\x1b]0;pwned\x07.csv"

    results = [run("import", str(bad_row)), run("import", str(missing))]

    assert [result.exit_code for result in results] == [6, 2]
    for result in results:
        assert "\x1b" not in result.stderr
        assert "\x07" not in result.stderr
    assert "bad\\x1b[2J.csv: line 2: language" in results[0].stderr
    assert "missing\\x1b]0;pwned\\x07.csv" in results[1].stderr
