"""The HTTP API as the CLI's catalogue and webhook commands speak it: a running server's (`--server`, or the one
serving this data folder), or the same app run inside this process — one code path, the API's own answers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from veo31.api.app import create_app
from veo31.cli import out, settings_or_exit
from veo31.cli.client import answer_of, detail_of
from veo31.cli.presence import running_server
from veo31.errors import ConflictError


class Api:
    def __init__(self, http: httpx.AsyncClient, *, in_process: bool) -> None:
        self.http = http
        self.in_process = in_process

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await answer_of(self.http, method, path, **kwargs)

    async def text(self, path: str) -> str:
        response = await self.http.get(path)
        if response.status_code != 200:
            raise ConflictError(detail_of(response))
        return response.text


@contextlib.asynccontextmanager
async def api_session(server: str | None, token: str | None, *, quiet: bool = False) -> AsyncIterator[Api]:
    """The server given, else the one serving this data folder, else the app in this process (its workers run
    here while the command runs; what it started resumes the next time one runs on this folder)."""
    settings = None if server else settings_or_exit()
    found = server or (running_server(settings.data_dir) if settings else None)
    if found:
        if settings and settings.api_tokens and not token:
            token = settings.api_tokens[0].get_secret_value()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(base_url=found.rstrip("/"), headers=headers, timeout=120) as http:
            yield Api(http, in_process=False)
        return
    assert settings is not None
    if not quiet:
        out.print(
            f"No veo31 server is running on {settings.data_dir}: working in this process "
            "(start one with `veo31 serve` to keep the work going after this command)",
            highlight=False,
        )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        base = settings.public_url or f"http://127.0.0.1:{settings.port}"
        token = settings.api_tokens[0].get_secret_value() if settings.api_tokens else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(transport=transport, base_url=base, headers=headers, timeout=120) as http:
            yield Api(http, in_process=True)
