"""The building blocks of the OpenAPI document's paths, shared by every resource's part:
references to components, JSON answers, error answers and the common parameters."""

from __future__ import annotations

from collections.abc import Mapping

from .wire import MAX_OFFSET, MAX_SEARCH_LENGTH


def member(document: object, *keys: str) -> dict[str, object]:
    """The object found by following `keys` down from `document`."""
    found: object = document
    for key in keys:
        assert isinstance(found, dict)
        found = found[key]
    assert isinstance(found, dict)
    return found


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_answer(schema: Mapping[str, object], description: str) -> dict[str, object]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict[str, dict[str, str]]:
    return {str(status): {"$ref": f"#/components/responses/Error{status}"} for status in statuses}


def answers(answer: dict[str, object], *statuses: int) -> dict[str, object]:
    """An operation's answers: `answer` on success, and its error answers."""
    return {"200": answer, **errors(*statuses)}


OFFSET: dict[str, object] = {
    "name": "offset",
    "in": "query",
    "required": False,
    "description": (
        "Skip this many objects; pages hold at most 100. Stop at a shorter page. "
        "An empty value counts as 0."
    ),
    "schema": {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            {"type": "string", "maxLength": 0},
        ],
        "default": 0,
    },
}
SEARCH: dict[str, object] = {
    "name": "search",
    "in": "query",
    "required": False,
    "description": "Case-insensitive part of the name, username or e-mail address; no NUL.",
    "schema": {"type": "string", "maxLength": MAX_SEARCH_LENGTH, "pattern": "^[^\\u0000]*$"},
}


def path_id(name: str) -> dict[str, object]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        # The console fills it in; after `make run` the first customer, warehouse and staff
        # user have this id.
        "example": 1,
    }


def list_of(item: str) -> dict[str, object]:
    return {"type": "array", "items": ref(item), "maxItems": 100}
