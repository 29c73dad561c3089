"""The headers of a delivery: what it is, who sends it, and both signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac

from .. import __version__

USER_AGENT = f"fulfilment-webhooks/{__version__} (fulfilment customers service)"


def _hmac(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def headers(secret: str | None, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Content-Type, User-Agent, and the Standard Webhooks id and timestamp (to de-duplicate
    on, secret or not); with a secret, the hosted system's X-Picqer-Signature (of the body
    alone: replayable) and `webhook-signature` (of id, timestamp and body: a receiver that
    checks the timestamp refuses replays)."""
    sent = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret is not None:
        signed = f"{webhook_id}.{timestamp}.".encode() + body
        sent["X-Picqer-Signature"] = _hmac(secret, body)
        sent["webhook-signature"] = "v1," + _hmac(secret, signed)
    return sent
