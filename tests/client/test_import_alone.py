"""`fulfilment.client` works in an environment that has only httpx and msgspec, and its
command-line tools (the `fulfilment customers` commands, CSV import and export) need only
click and rich besides: none of them loads the server's packages or modules."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Every package the server needs and the client must not: importing any of them fails.
SERVER_ONLY = [
    "starlette",
    "sqlalchemy",
    "alembic",
    "granian",
    "argon2",
    "limits",
    "redis",
    "psycopg",
    "jinja2",
    "babel",
    "multipart",
    "click",
    "rich",
]

PROGRAM = textwrap.dedent(
    """
    import sys

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not installed here")
            return None

    sys.meta_path.insert(0, Refuse())

    import httpx
    from fulfilment.client import Client

    def answer(request):
        assert request.headers["authorization"].startswith("Basic ")
        return httpx.Response(200, json=[{"idfulfilment_customer": 1, "name": "Acme"}])

    with Client("http://api.test", api_key="k", transport=httpx.MockTransport(answer)) as c:
        names = [customer.name for customer in c.customers.list()]
    assert names == ["Acme"], names
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(BLOCKED))
    print("ok", loaded)
    """
)


def test_the_client_imports_and_works_without_the_server_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"BLOCKED = {SERVER_ONLY!r}\n{PROGRAM}"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok []"


def test_importing_the_client_loads_no_server_module() -> None:
    program = (
        "import sys, fulfilment.client\n"
        "print(sorted(m for m in sys.modules if m.startswith('fulfilment')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )

    loaded = eval(result.stdout)  # noqa: S307 - our own subprocess's repr of a list
    assert all(name == "fulfilment" or name.startswith("fulfilment.client") for name in loaded)
    assert "fulfilment.client" in loaded


# The command-line tools need click and rich besides the client, and nothing of the server.
TOOLS_PROGRAM = textwrap.dedent(
    """
    import sys

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not installed here")
            return None

    sys.meta_path.insert(0, Refuse())

    from click.testing import CliRunner
    from fulfilment.client import cli, transfer

    result = CliRunner().invoke(cli.customers, ["import", "--help"])
    assert result.exit_code == 0, result.output
    assert "nothing was written" in result.output, result.output
    print(sorted(m for m in sys.modules if m.split(".")[0] in {"fulfilment", *BLOCKED}))
    """
)


def test_the_command_line_tools_load_only_the_client_and_the_field_rules() -> None:
    blocked = [name for name in SERVER_ONLY if name not in {"click", "rich"}]
    result = subprocess.run(
        [sys.executable, "-c", f"BLOCKED = {blocked!r}\n{TOOLS_PROGRAM}"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    loaded = eval(result.stdout)  # noqa: S307 - our own subprocess's repr of a list
    assert "fulfilment.client.cli" in loaded
    assert "fulfilment.client.transfer" in loaded
    server = [
        name
        for name in loaded
        if name not in {"fulfilment", "fulfilment.fields", "fulfilment.spreadsheet"}
        and not name.startswith("fulfilment.client")
    ]
    assert server == []
