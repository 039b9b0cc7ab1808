"""Our own copy of each finished video and its poster, served with HTTP Range so players can seek.

With API tokens set, these accept either the bearer token or the link's signature (`sig`), so a video URL can go
straight into a <video> tag or be shared."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from veo31.api.delivery import blob_response
from veo31.api.deps import ServiceDep, SettingsDep, has_valid_token, signature_ok
from veo31.config import Settings
from veo31.domain import Generation
from veo31.errors import NotFoundError
from veo31.pipeline.service import GenerationService

router = APIRouter(prefix="/v1/generations", tags=["videos"])


async def accessible(
    request: Request, settings: Settings, service: GenerationService, generation_id: str, sig: str | None
) -> Generation:
    """The generation, once the request may see its media (a token, or the link's signature)."""
    check_access(request, settings, generation_id, sig)
    return await service.get(generation_id)


def check_access(request: Request, settings: SettingsDep, generation_id: str, sig: str | None) -> None:
    if not has_valid_token(request, settings) and not signature_ok(request, generation_id, sig):
        raise HTTPException(
            status_code=401,
            detail="send Authorization: Bearer <token>, or use the signed link from the generation's video_url",
            headers={"WWW-Authenticate": "Bearer"},
        )


VIDEO_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"video/mp4": {}}},
    206: {"description": "a byte range"},
    307: {"description": "with VEO31_S3_DELIVERY=redirect: a short-lived link to the bucket"},
}


@router.get("/{generation_id}/video", response_class=Response, responses=VIDEO_RESPONSES)
async def video(
    generation_id: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    download: Annotated[bool, Query(description="send as an attachment (a file download)")] = False,
    sig: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    generation = await accessible(request, settings, service, generation_id, sig)
    key = service.video_key(generation)
    return await blob_response(
        service.blobs,
        settings,
        key,
        range_header=request.headers.get("range"),
        media_type="image/webp" if key.endswith(".webp") else "video/mp4",  # a `preview` deliverable: animated WebP
        filename=generation.download_name("mp4") if download else None,
        inline=not download,
    )


@router.get("/{generation_id}/poster.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def poster(
    generation_id: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    sig: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    generation = await accessible(request, settings, service, generation_id, sig)
    return await blob_response(
        service.blobs,
        settings,
        service.poster_key(generation),
        range_header=request.headers.get("range"),
        media_type="image/jpeg",
    )


@router.get("/{generation_id}/quality.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def quality_frame(
    generation_id: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    sig: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The quality gate's picture: the reference photo beside the clip's worst frame."""
    generation = await accessible(request, settings, service, generation_id, sig)
    if not generation.quality_frame_key:
        raise NotFoundError(f"generation {generation_id} has no quality picture (it is {generation.status.value})")
    return await blob_response(
        service.blobs, settings, generation.quality_frame_key, range_header=None, media_type="image/jpeg"
    )


@router.get("/{generation_id}/attempts/{number}/video", response_class=Response, responses=VIDEO_RESPONSES)
async def attempt_video(
    generation_id: str,
    number: Annotated[int, Path(ge=1, le=10)],
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    sig: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The video of an earlier attempt the quality gate set aside (`attempts` in the generation): paid for, kept."""
    generation = await accessible(request, settings, service, generation_id, sig)
    if number > len(generation.attempts) or not generation.attempts[number - 1].get("video_key"):
        raise NotFoundError(f"generation {generation_id} has no attempt {number} set aside")
    return await blob_response(
        service.blobs,
        settings,
        generation.attempts[number - 1]["video_key"],
        range_header=request.headers.get("range"),
        media_type="video/mp4",
    )
