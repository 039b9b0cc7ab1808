"""Whether this process can do its work: what `/readyz` reports."""

from __future__ import annotations

import asyncio
from typing import Any

from veo31.pipeline.runtime import Runtime
from veo31.providers.registry import configured_providers
from veo31.store.db import database_problem


async def readiness(runtime: Runtime) -> dict[str, Any]:
    """Ready when the database and the blob storage answer and at least one configured provider can work."""
    problem = await asyncio.to_thread(database_problem, runtime.engine)
    storage = await asyncio.to_thread(runtime.blobs.problem)
    providers = configured_providers(runtime.settings)
    usable = [name for name in providers if name not in runtime.problems]
    answer: dict[str, Any] = {
        "ready": problem is None and storage is None and bool(usable),
        "database": problem or "ok",
        "storage": storage or "ok",
        "providers": providers or "none configured: set KIE_API_KEY (or run veo31 serve --emulate)",
    }
    if runtime.problems:
        answer["provider_problems"] = dict(runtime.problems)
    return answer
