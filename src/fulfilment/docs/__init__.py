"""The API console at `/docs`: Swagger UI on the service's own OpenAPI document, to read
every operation with its examples and to try each one with your key. Swagger UI's files come
from the `swagger-ui-py` package and are served by the service itself (no outside host);
only these pages may run scripts, and only the service's own."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from .. import __version__

HERE = Path(__file__).parent


def _swagger_ui_files() -> Path:
    """The swagger-ui package's static files, found without importing it (its Python half
    is for other frameworks)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: it serves the console at /docs")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


SWAGGER_UI = _swagger_ui_files()

# Scripts and styles from the service only; requests to the API on the same origin only.
# Swagger UI sets element styles from its script (allowed without 'unsafe-inline') and
# draws a few icons as data: images.
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONSOLE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# name under /docs/ -> (file, media type)
ASSETS = {
    "swagger-ui.css": (SWAGGER_UI / "swagger-ui.css", "text/css; charset=utf-8"),
    "swagger-ui-bundle.js": (SWAGGER_UI / "swagger-ui-bundle.js", "text/javascript"),
    "docs.css": (HERE / "docs.css", "text/css; charset=utf-8"),
    "console.js": (HERE / "console.js", "text/javascript"),
    "favicon.png": (SWAGGER_UI / "favicon-32x32.png", "image/png"),
}


def routes() -> list[Route]:
    page = (HERE / "page.html").read_text().replace("{version}", __version__)

    async def docs_page(request: Request) -> Response:
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    async def docs_asset(request: Request) -> Response:
        # Read from the file for each request (off the event loop), not kept in every
        # worker: Swagger UI's script alone is 1.6 MB, and browsers keep it for an hour.
        path, media = ASSETS[request.url.path.removeprefix("/docs/")]
        return FileResponse(
            path,
            media_type=media,
            headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"},
        )

    return [
        Route("/docs", docs_page, methods=["GET"]),
        *(Route(f"/docs/{name}", docs_asset, methods=["GET"]) for name in ASSETS),
    ]
