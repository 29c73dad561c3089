"""Receiving deliveries: check a request's signature and read its payload.

    from fulfilment.client.webhooks import InvalidSignature, verify

    event = verify(body, headers, secret="...")    # the raw body bytes, the headers
    if event.event == "fulfilment_customers.changed":
        customer = event.customer()

A delivery must carry the Standard Webhooks signature (`webhook-signature`), checked with
its `webhook-timestamp` against `tolerance`, so that a captured request cannot be replayed
later. The hosted system's `X-Picqer-Signature` signs the body alone: a request that
carries only that one (the hosted system's own deliveries, or one stripped of its
timestamped headers) is accepted only with `allow_unstamped=True`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from ._models import Customer

__all__ = ["InvalidSignature", "WebhookEvent", "verify"]

DEFAULT_TOLERANCE = 300


class InvalidSignature(Exception):
    """The request is not signed with the secret, is too old or too new, or is no delivery."""


class WebhookEvent(msgspec.Struct, kw_only=True, frozen=True):
    """A delivery's payload."""

    idhook: int
    name: str
    event: str
    event_triggered_at: str
    data: dict[str, Any]
    webhook_id: str | None = None
    """The `webhook-id` header: the same on every attempt, to de-duplicate on."""

    def customer(self) -> Customer:
        """`data` as a Customer (the events `fulfilment_customers.*`)."""
        return msgspec.convert(self.data, Customer)


def _signature(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _decoded(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    allow_unstamped: bool = False,
    now: float | None = None,
) -> WebhookEvent:
    """The payload of a delivery whose timestamped signature holds; InvalidSignature
    otherwise. `allow_unstamped=True` also accepts `X-Picqer-Signature` alone, which a
    replay of an old request passes too."""
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get("webhook-id")
    stamped = lowered.get("webhook-signature")
    if stamped is not None:
        timestamp = lowered.get("webhook-timestamp", "")
        if webhook_id is None or not timestamp.isdigit():
            raise InvalidSignature("webhook-id or webhook-timestamp is missing")
        moment = time.time() if now is None else now
        if abs(moment - int(timestamp)) > tolerance:
            raise InvalidSignature("the webhook-timestamp is outside the tolerance")
        expected = _signature(secret, f"{webhook_id}.{timestamp}.".encode() + body)
        for candidate in stamped.split():
            version, _, signature = candidate.partition(",")
            given = _decoded(signature)
            if version == "v1" and given is not None and hmac.compare_digest(expected, given):
                break
        else:
            raise InvalidSignature("no webhook-signature matches the secret")
    else:
        picqer = lowered.get("x-picqer-signature")
        if picqer is None:
            raise InvalidSignature("the request carries no signature")
        if not allow_unstamped:
            raise InvalidSignature(
                "the request carries no webhook-signature, only X-Picqer-Signature, which "
                "does not protect against replays (pass allow_unstamped=True to accept it)"
            )
        given = _decoded(picqer)
        if given is None or not hmac.compare_digest(_signature(secret, body), given):
            raise InvalidSignature("the X-Picqer-Signature does not match the secret")
    try:
        event = msgspec.json.decode(body, type=WebhookEvent)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise InvalidSignature(f"the body is not a delivery: {error}") from None
    return msgspec.structs.replace(event, webhook_id=webhook_id)
