"""The customer structs of the server and the client are what scripts/structs.py writes
from the field table (fulfilment.fields.CUSTOMER_FIELDS)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from fulfilment.client import Customer as ClientCustomer
from fulfilment.client import CustomerFields, CustomerListItem
from fulfilment.customers.schemas import Customer, CustomerCreate, CustomerUpdate
from fulfilment.fields import LIST_FIELDS, OUTPUT_FIELDS, WRITABLE_FIELDS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path("scripts") / "structs.py"
SCHEMAS = Path("src") / "fulfilment" / "customers" / "schemas.py"


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_structs_are_written_from_the_field_table() -> None:
    result = check(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    names = tuple(field.name for field in WRITABLE_FIELDS)
    assert CustomerCreate.__struct_fields__ == CustomerUpdate.__struct_fields__ == names
    assert tuple(CustomerFields.__annotations__) == names
    answer = tuple(field.name for field in OUTPUT_FIELDS)
    assert Customer.__struct_fields__ == ClientCustomer.__struct_fields__ == answer
    assert CustomerListItem.__struct_fields__ == tuple(field.name for field in LIST_FIELDS)


def test_the_check_fails_when_a_struct_was_edited_by_hand(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / SCRIPT).parent.mkdir()
    shutil.copy(ROOT / SCRIPT, tmp_path / SCRIPT)
    shutil.copytree(ROOT / "src", tmp_path / "src")
    schemas = tmp_path / SCHEMAS
    schemas.write_text(
        schemas.read_text(encoding="utf-8").replace(
            '    language: Language = "nl"\n', '    language: Language = "en"\n'
        ),
        encoding="utf-8",
    )

    result = check(tmp_path)

    assert result.returncode == 1
    assert '-    language: Language = "en"' in result.stdout
    assert '+    language: Language = "nl"' in result.stdout
