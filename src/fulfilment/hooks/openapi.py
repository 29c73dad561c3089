"""The hooks' part of the OpenAPI document: their paths, and the deliveries a hook's
address receives (the document's `webhooks` section)."""

from __future__ import annotations

from .. import openapi_parts as parts
from .attempts import TIMEOUT_SECONDS
from .handler import RETRY_SCHEDULE
from .schemas import EVENTS, PING
from .signing import USER_AGENT

TAGS = ["Hooks"]
HOOK = "/api/v1/hooks/{idhook}"


def _hook_answer(description: str) -> dict[str, object]:
    return parts.json_answer(parts.ref("Hook"), description)


def _operation(
    operation_id: str, summary: str, answer: dict[str, object], *errors: int
) -> dict[str, object]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": TAGS,
        "responses": {"200": answer, **parts.errors(*errors)},
    }


def _body(name: str) -> dict[str, object]:
    return {"required": True, "content": {"application/json": {"schema": parts.ref(name)}}}


def paths() -> dict[str, object]:
    read_errors = (401, 403, 404, 429)
    write_errors = (400, 401, 403, 404, 413, 429)
    return {
        "/api/v1/hooks": {
            "get": {
                **_operation(
                    "listHooks",
                    "List hooks",
                    parts.json_answer(parts.list_of("Hook"), "A page, ordered by id."),
                    400,
                    401,
                    403,
                    429,
                ),
                "parameters": [parts.OFFSET],
            },
            "post": {
                **_operation(
                    "createHook",
                    "Create a hook: deliveries of `event` to `address`",
                    _hook_answer("The new hook."),
                    *write_errors,
                ),
                "description": (
                    "The same address and event twice in one account is refused (400), as "
                    "is an address that is or resolves to a loopback, private, link-local, "
                    "multicast or unspecified IP address."
                ),
                "requestBody": _body("HookCreate"),
            },
        },
        HOOK: {
            "parameters": [parts.path_id("idhook")],
            "get": _operation("getHook", "Get one hook", _hook_answer("The hook."), *read_errors),
            "put": {
                **_operation(
                    "updateHook",
                    "Change a hook's name, address or secret (only the fields sent)",
                    _hook_answer("The hook as it is now."),
                    *write_errors,
                ),
                "requestBody": _body("HookUpdate"),
            },
            "delete": _operation(
                "deleteHook",
                "Deactivate a hook (it stays readable; see reactivate)",
                _hook_answer("The hook, `active: false`."),
                *read_errors,
            ),
        },
        HOOK + "/reactivate": {
            "parameters": [parts.path_id("idhook")],
            "post": _operation(
                "reactivateHook",
                "Activate a hook again; its waiting deliveries resume",
                _hook_answer("The hook, `active: true`."),
                *read_errors,
            ),
        },
        HOOK + "/test": {
            "parameters": [parts.path_id("idhook")],
            "post": _operation(
                "testHook",
                "Send the event `ping` (data `{}`) to an active hook",
                _hook_answer("The hook; the delivery shows in its deliveries."),
                400,
                *read_errors,
            ),
        },
        HOOK + "/deliveries": {
            "parameters": [parts.path_id("idhook")],
            "get": {
                **_operation(
                    "listHookDeliveries",
                    "The hook's deliveries, newest first, with every attempt",
                    parts.json_answer(parts.list_of("HookDelivery"), "A page, newest first."),
                    400,
                    *read_errors,
                ),
                "parameters": [parts.OFFSET],
            },
        },
    }


def _header(description: str, required: bool = True) -> dict[str, object]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


_SCHEDULE = ", ".join(f"{seconds:,} s" for seconds in RETRY_SCHEDULE)
DELIVERY_DESCRIPTION = (
    f"POSTed to the hook's address. Success is any 2xx within {TIMEOUT_SECONDS:g} seconds; "
    "redirects are not followed. A failed attempt is retried after "
    f"{_SCHEDULE} (about 12.7 hours in all). A hook whose delivery fails that whole "
    "schedule, with no successful delivery of the hook since that event, is deactivated. "
    "Delivery is at least once: de-duplicate on `webhook-id`."
)


def webhooks() -> dict[str, object]:
    """One entry per event; each POSTs a HookPayload with the same headers."""
    headers = [
        {"name": "User-Agent", "in": "header", **_header(f"`{USER_AGENT}`")},
        {
            "name": "webhook-id",
            "in": "header",
            **_header("The delivery's id: the same on every attempt of it."),
        },
        {
            "name": "webhook-timestamp",
            "in": "header",
            **_header("Unix seconds of this attempt."),
        },
        {
            "name": "webhook-signature",
            "in": "header",
            **_header(
                '`v1,` + base64(HMAC-SHA256(key = secret as UTF-8, message = id + "." + '
                'timestamp + "." + body)): Standard Webhooks. Only with a secret.',
                required=False,
            ),
        },
        {
            "name": "X-Picqer-Signature",
            "in": "header",
            **_header(
                "base64(HMAC-SHA256(key = secret as UTF-8, message = body)): the hosted "
                "system's scheme. Only with a secret.",
                required=False,
            ),
        },
    ]
    entries: dict[str, object] = {}
    for event in (*EVENTS, PING):
        entries[event] = {
            "post": {
                "operationId": "deliver_" + event.replace(".", "_"),
                "summary": f"The event `{event}`",
                "description": DELIVERY_DESCRIPTION,
                "tags": TAGS,
                "parameters": headers,
                "requestBody": _body("HookPayload"),
                "responses": {"200": {"description": "Any 2xx: delivered."}},
            }
        }
    return entries
