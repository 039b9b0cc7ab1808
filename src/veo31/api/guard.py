"""The door every request passes before any route runs: what is refused here costs nothing and stores nothing.

- A state-changing request (POST, PUT, PATCH, DELETE) from a page of another site is refused (403): a browser
  sends a multipart POST from any web page without asking first (a CORS "simple request"), so without this
  check any site a user visits could spend the user's credits on a server that has no tokens. Allowed: no
  `Origin` (curl, the CLI, scripts — unless the browser says `Sec-Fetch-Site: cross-site`), this server's own
  origin, and the origins listed in `VEO31_CORS_ORIGINS`. Provider callbacks are exempt: they come from servers
  and carry their own unguessable token.
- A path or query with a control character (NUL above all: PostgreSQL refuses it in text) is refused (422).
- Bodies are capped before they are read whole: a callback at 64 KB, JSON at 1 MB (413). Multipart bodies are
  spooled to disk by the form parser and capped per file by the routes.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veo31.config import Settings

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CALLBACK_PREFIX = "/v1/callbacks/"
CALLBACK_MAX_BYTES = 64 * 1024
JSON_MAX_BYTES = 1024 * 1024
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LOOPBACK_NAMES = frozenset({"localhost"})


class BodyTooLargeError(Exception):
    """Raised from `receive` when a body grows past its cap; the guard answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.allowed = {origin.lower() for origin in settings.cors_origins}
        self.public_origin = origin_of(settings.public_url) if settings.public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        if CONTROL.search(path) or CONTROL.search(unquote(query)):
            await refuse(send, 422, "invalid_request", "the address contains a control character (such as NUL)")
            return
        headers = Headers(scope=scope)
        callback = path.startswith(CALLBACK_PREFIX)
        if scope["method"] in STATE_CHANGING and not callback:
            refusal = self.cross_site_refusal(scope, headers)
            if refusal is not None:
                await refuse(send, 403, "cross_origin", refusal)
                return
        limit = body_limit(headers, callback)
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await refuse(send, 413, "too_large", too_large(limit, callback))
            return
        await self.capped(scope, receive, send, limit, callback)

    async def capped(self, scope: Scope, receive: Receive, send: Send, limit: int, callback: bool) -> None:
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, watching)
        except BodyTooLargeError:
            if started:
                raise
            await refuse(send, 413, "too_large", too_large(limit, callback))

    def cross_site_refusal(self, scope: Scope, headers: Headers) -> str | None:
        """Why a state-changing request must be refused as cross-site, or None when it may go on."""
        origin = headers.get("origin")
        if origin is None:
            if headers.get("sec-fetch-site", "").lower() == "cross-site":
                return (
                    "a page of another site may not send requests that change anything here; "
                    "list its origin in VEO31_CORS_ORIGINS to allow it"
                )
            return None
        origin = origin.strip().rstrip("/").lower()
        if "*" in self.allowed or origin in self.allowed or origin == self.public_origin:
            return None
        if origin in self.own_origins(scope, headers):
            return None
        return (
            f"a page at {origin[:100]} may not send requests that change anything on this server; "
            f"to allow it, add it to VEO31_CORS_ORIGINS (comma-separated; null stands for pages opened from disk)"
        )

    def own_origins(self, scope: Scope, headers: Headers) -> Iterable[str]:
        """The origins this request was addressed to: its Host, or a proxy's forwarded host, with its scheme.

        Without tokens, a Host counts only when it is a loopback name: a site whose name was made to resolve to
        127.0.0.1 (DNS rebinding) would otherwise be "same-origin" with this server. A forwarded host always
        counts: a page cannot add that header to a request without asking first (a preflight it would fail)."""
        scheme = headers.get("x-forwarded-proto", scope.get("scheme", "http")).split(",")[0].strip().lower()
        host = headers.get("host", "")
        hosts = [host] if host and (self.settings.api_tokens or is_loopback_host(host)) else []
        forwarded = headers.get("x-forwarded-host")
        if forwarded:
            hosts.append(forwarded.split(",")[0].strip())
        for host in hosts:
            if host:
                yield f"{scheme}://{host.lower()}"
                if scheme == "http" and host.endswith(":80") or scheme == "https" and host.endswith(":443"):
                    yield f"{scheme}://{host.lower().rsplit(':', 1)[0]}"


def body_limit(headers: Headers, callback: bool) -> int | None:
    if callback:
        return CALLBACK_MAX_BYTES
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        return JSON_MAX_BYTES
    return None


def too_large(limit: int, callback: bool) -> str:
    what = "a callback body" if callback else "a JSON body"
    advice = "" if callback else "; send images as files (multipart/form-data) or as URLs"
    return f"{what} may be at most {limit // 1024} KB{advice}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_loopback_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


async def refuse(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
