"""What every page of the portal and the back office shares: reading a form, and the
security headers every answer carries."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from . import errors

# A field longer than this, or a form with more fields, is not read.
FORM_LIMIT_BYTES = 16 * 1024
FORM_MAX_FIELDS = 20
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# A page with the passkey ceremony: the service's own script file, and its requests to the
# service; still no inline script and nothing from elsewhere.
SCRIPTED_POLICY = PAGE_POLICY + "; script-src 'self'; connect-src 'self'"
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def secure(response: Response, request: Request) -> Response:
    """The security headers on `response`; a page that runs the passkey script keeps the
    policy that allows it (`allow_script`)."""
    scripted = response.headers.get("Content-Security-Policy") == SCRIPTED_POLICY
    response.headers.update(SECURITY_HEADERS)
    if scripted:
        response.headers["Content-Security-Policy"] = SCRIPTED_POLICY
    # Strict-Transport-Security is added to every answer over HTTPS, at the edge (edge.py).
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def allow_script(response: Response) -> None:
    """Let the page run the service's own script files (the passkey ceremony)."""
    response.headers["Content-Security-Policy"] = SCRIPTED_POLICY


async def read_form(request: Request, max_fields: int = FORM_MAX_FIELDS) -> dict[str, str]:
    """A urlencoded form (Starlette's parser), the first value of each field."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        raise errors.FormUnreadable()
    try:
        form = await request.form(
            max_files=0, max_fields=max_fields, max_part_size=FORM_LIMIT_BYTES
        )
    except (HTTPException, MultiPartException):  # too many fields, or one too large
        raise errors.FormUnreadable() from None
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        # Bytes that are not UTF-8 are read as U+FFFD, which no form of ours asks for.
        if not isinstance(value, str) or "\ufffd" in name + value:
            raise errors.FormUnreadable()
        fields.setdefault(name, value)
    return fields
