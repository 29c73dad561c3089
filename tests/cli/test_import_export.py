"""`fulfilment customers import` and `export` against a server over TCP."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fulfilment.client import Client
from tests.live import LiveAccount, LiveServer

from .conftest import Run


def write_csv(path: Path, header: list[str], *rows: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def names_on(server: LiveServer, account: LiveAccount) -> list[str]:
    with Client(server.url, api_key=account.key) as client:
        return [customer.name for customer in client.customers.list()]


def test_every_bad_row_is_reported_and_nothing_is_written(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    run("create", "--name", "Existing", "--username", "taken")
    path = write_csv(
        tmp_path / "customers.csv",
        ["name", "can_login", "username", "password", "emailaddress", "language",
         "idtemplate", "allowed_shipping_profiles", "preferred_idwarehouse"],
        ["Good One", "", "good1", "", "", "nl", "", "", ""],
        ["", "", "", "", "", "", "", "", ""],
        ["", "", "", "", "not-an-address", "de", "", "", ""],
        ["Login", "true", "", "", "", "", "", "", ""],
        ["Clash", "maybe", "TAKEN", "short", "", "", "999999", "1;x", "0"],
        ["Good Two", "", "GOOD1", "", "", "", "", "", ""],
    )  # fmt: skip

    result = run("import", str(path))

    assert result.exit_code == 6
    reported = [line for line in result.stderr.splitlines() if line.startswith("customers.csv")]
    assert reported == [
        "customers.csv: line 4: emailaddress 'not-an-address' does not look like an e-mail address",
        "customers.csv: line 4: language must be nl or en, not 'de'",
        "customers.csv: line 4: name is required for a new customer",
        "customers.csv: line 5: username is required when can_login is true",
        "customers.csv: line 5: password is required when can_login is true",
        "customers.csv: line 6: can_login must be true or false, not 'maybe'",
        "customers.csv: line 6: password must be 8 to 1024 characters",
        "customers.csv: line 6: idtemplate 999999 is not a template of this account",
        "customers.csv: line 6: allowed_shipping_profiles must be a positive whole number, not 'x'",
        "customers.csv: line 6: preferred_idwarehouse must be a positive whole number, not '0'",
        "customers.csv: line 6: username 'TAKEN' is already used by fulfilment customer "
        f"{_id_of(server, account, 'taken')} (use --upsert to update it)",
        "customers.csv: line 7: username 'GOOD1' is also on line 2",
    ]
    assert "nothing was imported" in result.stderr
    assert names_on(server, account) == ["Existing"]


def test_skip_bad_rows_imports_the_good_ones(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "customers.csv",
        ["name", "language", "allowed_shipping_profiles"],
        ["First", "en", f"{account.profiles[1]} {account.profiles[0]}"],
        ["Bad", "fr", ""],
        ["Second", "", ""],
    )

    result = run("import", str(path), "--skip-bad-rows")

    assert result.exit_code == 0, result.output
    assert "line 3: language must be nl or en, not 'fr'" in result.stderr
    assert names_on(server, account) == ["First", "Second"]
    with Client(server.url, api_key=account.key) as client:
        first = next(iter(client.customers.list()))
        assert client.customers.get(first.idfulfilment_customer).allowed_shipping_profiles == [
            account.profiles[1],
            account.profiles[0],
        ]


def test_check_writes_nothing(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "customers.csv", ["name"], ["Only checked"])

    result = run("import", str(path), "--check")

    assert result.exit_code == 0
    assert "1 rows: 1 to create, 0 to update, 0 bad" in result.stderr
    assert names_on(server, account) == []


def test_upsert_updates_by_username_ignoring_case_and_creates_the_rest(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    run("create", "--name", "Old Name", "--username", "acme", "--email", "old@acme.test")
    path = write_csv(
        tmp_path / "customers.csv",
        ["username", "name", "can_login", "password", "language"],
        ["ACME", "", "true", "a-long-password", "en"],
        ["globex", "Globex", "", "", ""],
    )

    result = run("import", str(path), "--upsert")

    assert result.exit_code == 0, result.output
    assert "2 rows: 1 to create, 1 to update, 0 bad" in result.stderr
    with Client(server.url, api_key=account.key) as client:
        acme, globex = client.customers.list()
    assert (acme.name, acme.username, acme.can_login, acme.language) == (
        "Old Name",
        "acme",
        True,
        "en",
    )
    assert acme.emailaddress == "old@acme.test"
    assert (globex.name, globex.username) == ("Globex", "globex")


def test_a_row_the_server_refuses_stops_the_import_with_exit_1(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    # The rows check out, but the existing customer has no password to log in with.
    run("create", "--name", "Acme", "--username", "acme")
    path = write_csv(
        tmp_path / "customers.csv",
        ["username", "can_login", "name"],
        ["acme", "true", ""],
        ["next", "", "Next"],
    )

    result = run("import", str(path), "--upsert")

    assert result.exit_code == 1
    assert "line 2: password is required when can_login is true." in result.stderr
    assert names_on(server, account) == ["Acme"]


def test_files_that_cannot_be_imported_exit_2(run: Run, tmp_path: Path) -> None:
    unknown = write_csv(tmp_path / "unknown.csv", ["name", "colour"], ["Acme", "red"])
    empty = tmp_path / "empty.csv"
    empty.write_text("")

    assert run("import", str(unknown)).exit_code == 2
    assert "unknown column(s) 'colour'" in run("import", str(unknown)).stderr
    assert "is empty" in run("import", str(empty)).stderr
    assert run("import", str(tmp_path / "missing.csv")).exit_code == 2


def test_an_export_can_be_imported_again(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    run("create", "--name", 'Acme, "the" best', "--username", "acme", "--language", "en")
    run("create", "--name", "Globex\nSecond line", "--email", "info@globex.test")
    exported = tmp_path / "export.csv"
    assert run("export", "-o", str(exported)).exit_code == 0
    other = server.create_account(f"{account.subdomain}copy")

    result = run("import", str(exported), FULFILMENT_API_KEY=other.key)

    assert result.exit_code == 0, result.output
    assert names_on(server, other) == ['Acme, "the" best', "Globex\nSecond line"]


def test_export_a_search_to_json_lines_on_standard_output(run: Run) -> None:
    run("create", "--name", "Alpha")
    run("create", "--name", "Beta")

    result = run("export", "--format", "jsonl", "--search", "beta")

    assert result.exit_code == 0
    assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == ["Beta"]


def _id_of(server: LiveServer, account: LiveAccount, username: str) -> int:
    with Client(server.url, api_key=account.key) as client:
        return next(c.idfulfilment_customer for c in client.customers.list(search=username))


def test_with_several_jobs_a_refused_row_still_stops_the_import_soon(
    run: Run, server: LiveServer, account: LiveAccount, tmp_path: Path
) -> None:
    run("create", "--name", "Acme", "--username", "acme")
    rows = [[f"new{n}", "", f"New {n}"] for n in range(100)]
    rows.insert(10, ["acme", "true", ""])  # checks out, but Acme has no password
    path = write_csv(tmp_path / "customers.csv", ["username", "can_login", "name"], *rows)

    result = run("import", str(path), "--upsert", "--jobs", "3")

    assert result.exit_code == 1
    assert "line 12: password is required when can_login is true." in result.stderr
    written = len(names_on(server, account)) - 1
    assert 10 <= written < 30
    assert f"imported {written} rows in" in result.stderr


def test_an_export_that_cannot_be_written_exits_2_and_leaves_no_file(
    run: Run, tmp_path: Path
) -> None:
    run("create", "--name", "Acme")
    target = tmp_path / "missing-directory" / "export.csv"

    result = run("export", "--output", str(target))

    assert result.exit_code == 2
    assert f"cannot write {target}: No such file or directory" in result.stderr
    assert "Traceback" not in result.output
    assert not target.parent.exists()
