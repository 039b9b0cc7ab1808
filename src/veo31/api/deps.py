"""FastAPI dependencies: settings, the service, links, and the bearer-token check."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from veo31.config import Settings
from veo31.domain import Generation, Status
from veo31.errors import InputError
from veo31.pipeline.service import GenerationService


# The dependencies are `async def` though they never wait: FastAPI runs a plain `def` dependency in its thread
# pool, a trip to another thread and back for a few attribute reads.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_service(request: Request) -> GenerationService:
    return request.app.state.service


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ServiceDep = Annotated[GenerationService, Depends(get_service)]


async def resolve_generation_id(generation_id: str, service: ServiceDep) -> str:
    """The whole id, from the id itself or its first characters (as git takes a commit's)."""
    return await service.resolve(generation_id)


GenerationIdDep = Annotated[str, Depends(resolve_generation_id)]


def has_valid_token(request: Request, settings: Settings) -> bool:
    if not settings.api_tokens:
        return True
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return False
    offered = header[7:].strip().encode()
    return any(hmac.compare_digest(offered, token.get_secret_value().encode()) for token in settings.api_tokens)


async def require_token(request: Request, settings: SettingsDep) -> None:
    if not has_valid_token(request, settings):
        raise HTTPException(
            status_code=401,
            detail="this server needs a token: send Authorization: Bearer <token> "
            "with one of the tokens in VEO31_API_TOKENS",
            headers={"WWW-Authenticate": "Bearer"},
        )


TokenDep = Depends(require_token)


def load_link_key(data_dir: Path) -> bytes:
    """The key that signs video links: made once per installation (O_EXCL, so racing processes agree), kept in
    the data folder."""
    path = Path(data_dir) / "link-secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_bytes()
            if len(key) == 32:
                return key
            time.sleep(0.01)  # another process created it a moment ago and is still writing it
        raise RuntimeError(f"{path} is damaged; delete it and restart (existing signed links will change)") from None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as sink:
        sink.write(key)
    return key


def sign(request: Request, generation_id: str) -> str:
    return hmac.new(request.app.state.link_key, generation_id.encode(), hashlib.sha256).hexdigest()[:32]


def signature_ok(request: Request, generation_id: str, signature: str | None) -> bool:
    # bytes, not str: compare_digest refuses non-ASCII strings, and a link's query is whatever a person typed
    return bool(signature) and hmac.compare_digest(sign(request, generation_id).encode(), (signature or "").encode())


def base_url(request: Request, settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def generation_links(request: Request, settings: Settings, generation: Generation) -> dict[str, str | None]:
    """Absolute links for a generation; video links carry a signature when the API needs tokens. Its video is
    there once it settled with one: completed, held for review, or rejected in review (kept)."""
    root = f"{base_url(request, settings)}/v1/generations/{generation.id}"
    query = signed_query(request, settings, generation.id)
    joiner = "&" if query else "?"
    done = generation.status.settled and generation.video_key
    held = generation.status is Status.NEEDS_REVIEW
    deliverable = done and generation.status is Status.COMPLETED and not generation.deliverable_of
    return {
        "self": root,
        "events": f"{root}/events",
        "video": f"{root}/video{query}" if done else None,
        "download": f"{root}/video{query}{joiner}download=1" if done else None,
        "poster": f"{root}/poster.jpg{query}" if generation.poster_key else None,
        "quality_frame": f"{root}/quality.jpg{query}" if generation.quality_frame_key else None,
        "cancel": f"{root}/cancel" if not generation.status.settled else None,
        "retry": f"{root}/retry" if generation.status in (Status.FAILED, Status.CANCELED) else None,
        "deliverables": f"{root}/deliverables" if deliverable else None,
        "deliverables_zip": f"{root}/deliverables.zip{query}" if deliverable else None,
        "approve": f"{root}/approve" if held or generation.quality_failed else None,
        "reject": f"{root}/reject" if held else None,
    }


def signed_query(request: Request, settings: Settings, generation_id: str) -> str:
    """`?sig=…` for a generation's media links when the API needs tokens (a <video> tag sends none), else ''."""
    return f"?sig={sign(request, generation_id)}" if settings.api_tokens else ""


def attempt_links(request: Request, settings: Settings, generation: Generation) -> list[str]:
    """The video of each earlier attempt the quality gate set aside, in order (they were paid for: kept)."""
    root = f"{base_url(request, settings)}/v1/generations/{generation.id}/attempts"
    query = signed_query(request, settings, generation.id)
    return [f"{root}/{number}/video{query}" for number in range(1, len(generation.attempts) + 1)]


async def read_json(request: Request, *, what: str = "the body") -> Any:
    """The request's body as JSON; malformed or absurdly nested JSON is the sender's mistake (422), not ours."""
    body = await request.body()
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested deeper than the parser goes
        raise InputError(f"{what} must be JSON") from None
