"""Every example of the README's "Python client" and "Command line" sections, run as
written against a live server (only its address differs)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fulfilment import demo
from fulfilment.db import Database
from fulfilment.settings import Settings
from tests.live import LiveServer, live_server

README = Path(__file__).parents[2] / "README.md"
DOCUMENTED_ADDRESS = "http://127.0.0.1:8000"
BLOCK = re.compile(r"^```(?P<language>\w+)\n(?P<code>.*?)^```$", re.DOTALL | re.MULTILINE)


def examples(section: str) -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else None]
    return [(match["language"], match["code"]) for match in BLOCK.finditer(body)]


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A fresh server per example, so that ids start at 1 as after a first `make run`."""
    with live_server(tmp_path_factory.mktemp("readme-server")) as running:
        database = Database(Settings(database_url=running.database_url))
        demo.set_up(database)  # what `make run` sets up
        database.close()
        yield running


def run_example(
    language: str, code: str, server: LiveServer, directory: Path, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    code = code.replace(DOCUMENTED_ADDRESS, f"http://127.0.0.1:{server.port}")
    # The examples run from the project root, where `make setup` made .venv/bin.
    venv = directory / ".venv"
    if not venv.exists():
        venv.mkdir()
        (venv / "bin").symlink_to(Path(sys.executable).parent)
    environ = {**server.environ, "FULFILMENT_URL": server.url}
    if key is not None:
        environ["FULFILMENT_API_KEY"] = key
    # Like a shell a person types into: a failing command stops the run, but a pipeline's
    # status is its last command's (`export | head` may end the export early).
    command = [sys.executable, "-c", code] if language == "python" else ["bash", "-eu", "-c", code]
    return subprocess.run(
        command, cwd=directory, env=environ, capture_output=True, text=True, timeout=120
    )


def test_the_sections_have_examples() -> None:
    assert [language for language, _ in examples("Python client")] == ["python", "python"]
    assert [language for language, _ in examples("Command line")] == ["sh"]


def test_the_command_line_examples(server: LiveServer, tmp_path: Path) -> None:
    ((language, code),) = examples("Command line")

    result = run_example(language, code, server, tmp_path)

    assert result.returncode == 0, result.stderr
    assert '"emailaddress": "info@initech.example"' in result.stdout
    assert "2 rows: 2 to create, 0 to update, 0 bad" in result.stderr
    exported = (tmp_path / "everyone.csv").read_text().splitlines()
    demo_customers = [customer.name for customer in demo.DEMO_CUSTOMERS]
    assert [line.split(",")[1] for line in exported] == [
        "name",
        *demo_customers,
        "Initech",
        "Globex",
        "Umbrella",
    ]
    assert "Tulip Trading Ltd" in result.stdout.splitlines()[3]
    assert result.stdout.splitlines()[-2].startswith(
        f'{{"idfulfilment_customer":1,"name":"{demo_customers[0]}"'
    )


def test_the_python_client_examples(server: LiveServer, tmp_path: Path) -> None:
    key = server.new_key("demo")
    (_, synchronous), (_, asynchronous) = examples("Python client")

    first = run_example("python", synchronous, server, tmp_path, key)
    second = run_example("python", asynchronous, server, tmp_path, key)

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert re.fullmatch(r"\d+ Acme BV ops@acme\.example", lines[0])
    assert lines[1:] == ["['Main warehouse']", "404 20 Fulfilment customer 999999 not found."]
    assert second.returncode == 0, second.stderr
    assert "Acme BV" in second.stdout.splitlines()
