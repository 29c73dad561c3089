"""A readable API reference at `/docs`, rendered on the server from the OpenAPI document;
its stylesheet is served by the service itself, so it works without any outside host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..errors import ERROR_TABLE

HERE = Path(__file__).parent
_environment = Environment(
    loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]), auto_reload=False
)
_METHODS = ("get", "post", "put", "delete")


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(name, schema) of a `$ref`, or ("", schema) for an inline one."""
    ref = schema.get("$ref")
    if ref is None:
        return "", schema
    name = ref.rsplit("/", 1)[1]
    return name, document["components"]["schemas"][name]


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[1])
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    return str(schema.get("type", "any"))


def _rules(schema: dict[str, Any]) -> str:
    options = schema.get("anyOf", [schema])
    parts: list[str] = []
    for option in options:
        for key, label in (
            ("minLength", "min length"),
            ("maxLength", "max length"),
            ("minimum", "min"),
            ("maximum", "max"),
            ("maxItems", "max items"),
        ):
            if key in option:
                parts.append(f"{label} {option[key]}")
        if "description" in option:
            parts.append(option["description"])
    return "; ".join(dict.fromkeys(parts))


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, item in document["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "anchor": operation["operationId"],
                    "parameters": item.get("parameters", []) + operation.get("parameters", []),
                    "body": _resolve(document, body["schema"])[0] if body else None,
                    "answer": _type(answer),
                    "errors": sorted(code for code in operation["responses"] if code != "200"),
                }
            )
    return operations


def _webhooks(document: dict[str, Any]) -> list[dict[str, Any]]:
    """What a hook's address receives, one entry per event."""
    return [
        {
            "event": event,
            "anchor": item["post"]["operationId"],
            "description": item["post"]["description"],
            "headers": item["post"]["parameters"],
            "body": _resolve(
                document, item["post"]["requestBody"]["content"]["application/json"]["schema"]
            )[0],
        }
        for event, item in document.get("webhooks", {}).items()
    ]


def _schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    schemas = []
    for name, schema in document["components"]["schemas"].items():
        required = set(schema.get("required", []))
        schemas.append(
            {
                "name": name,
                "description": schema.get("description", ""),
                "fields": [
                    {
                        "name": field,
                        "type": _type(definition),
                        "required": field in required,
                        "rules": _rules(definition),
                    }
                    for field, definition in schema.get("properties", {}).items()
                ],
            }
        )
    return schemas


def render(document: dict[str, Any]) -> str:
    return _environment.get_template("page.html").render(
        info=document["info"],
        operations=_operations(document),
        webhooks=_webhooks(document),
        schemas=_schemas(document),
        errors=ERROR_TABLE,
    )


def routes(document: dict[str, Any]) -> list[Route]:
    page = render(document)
    stylesheet = (HERE / "docs.css").read_bytes()

    async def docs_page(request: Request) -> Response:
        return HTMLResponse(page)

    async def docs_stylesheet(request: Request) -> Response:
        return Response(
            stylesheet,
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    return [
        Route("/docs", docs_page, methods=["GET"]),
        Route("/docs/docs.css", docs_stylesheet, methods=["GET"]),
    ]
