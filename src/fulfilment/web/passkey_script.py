"""What the passkey pages of both sites share: the script, and the options' answer."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from .pages import secure

SCRIPT = (Path(__file__).parent / "passkey.js").read_bytes()


async def script(request: Request) -> Response:
    """The passkey ceremony's script: the only script the pages run."""
    response = Response(SCRIPT, media_type="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return secure(response, request)


def options_answer(options: str) -> Response:
    """A ceremony's options, as `navigator.credentials` takes them (after passkey.js turns
    their base64url fields into bytes)."""
    return Response(options, media_type="application/json")
