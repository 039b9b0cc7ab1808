"""The web page: one HTML file and its static script and style (no build step), served at `/` and `/veo31`.

The page holds no state and no secret: it reads everything from the API, and a token (when the server needs one)
is typed by the person and kept in their browser.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from veo31 import __version__

router = APIRouter(include_in_schema=False)
WEB = Path(str(resources.files("veo31") / "web"))


# The page's own policy: nothing runs, loads or connects but from this server (the API docs page as well).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
}


def static_files() -> StaticFiles:
    return StaticFiles(directory=WEB / "static")


def docs_assets() -> StaticFiles:
    """Swagger UI's script and style, from a pinned package: /docs needs no CDN, so it works offline."""
    return StaticFiles(directory=str(swagger_ui_path))


def page_html() -> str:
    # The version in asset URLs makes a new release's script and style replace cached ones.
    return (WEB / "templates" / "index.html").read_text(encoding="utf-8").replace("{{version}}", __version__)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
@router.api_route("/veo31", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def page() -> HTMLResponse:
    return HTMLResponse(page_html(), headers=HEADERS)


@router.api_route("/docs", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    """The API docs (Swagger UI), with its assets and its start-up script served from here, never a CDN."""
    html = (WEB / "templates" / "docs.html").read_text(encoding="utf-8").replace("{{version}}", __version__)
    return HTMLResponse(html, headers=HEADERS)
