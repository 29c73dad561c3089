"""The customer structs of the server and the client are what scripts/structs.py writes
from the field table (fulfilment.fields.CUSTOMER_FIELDS)."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from fulfilment.client import EVENTS as CLIENT_EVENTS
from fulfilment.client import Customer as ClientCustomer
from fulfilment.client import CustomerFields, CustomerListItem
from fulfilment.customers.schemas import Customer, CustomerCreate, CustomerUpdate
from fulfilment.events import EVENTS
from fulfilment.fields import LIST_FIELDS, OUTPUT_FIELDS, WRITABLE_FIELDS
from fulfilment.hooks import schemas as hook_schemas
from tests.generated import ROOT, check, copy_of_the_tree

SCHEMAS = Path("src") / "fulfilment" / "customers" / "schemas.py"


def test_the_structs_are_written_from_the_field_table() -> None:
    result = check(ROOT, "structs.py")

    assert result.returncode == 0, result.stdout + result.stderr
    names = tuple(field.name for field in WRITABLE_FIELDS)
    assert CustomerCreate.__struct_fields__ == CustomerUpdate.__struct_fields__ == names
    assert tuple(CustomerFields.__annotations__) == names
    answer = tuple(field.name for field in OUTPUT_FIELDS)
    assert Customer.__struct_fields__ == ClientCustomer.__struct_fields__ == answer
    assert CustomerListItem.__struct_fields__ == tuple(field.name for field in LIST_FIELDS)
    subscribed = tuple(event.name for event in EVENTS if event.subscribed)
    assert hook_schemas.EVENTS == CLIENT_EVENTS == get_args(hook_schemas.Event) == subscribed


def test_the_check_fails_when_a_struct_was_edited_by_hand(tmp_path: Path) -> None:
    copy_of_the_tree(tmp_path, Path("src"))
    schemas = tmp_path / SCHEMAS
    schemas.write_text(
        schemas.read_text(encoding="utf-8").replace(
            '    language: Language = "nl"\n', '    language: Language = "en"\n'
        ),
        encoding="utf-8",
    )

    result = check(tmp_path, "structs.py")

    assert result.returncode == 1
    assert '-    language: Language = "en"' in result.stdout
    assert '+    language: Language = "nl"' in result.stdout
