"""/v1/generations: create (JSON with URLs, or multipart with files), read, list, cancel, retry."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from veo31.api.deps import GenerationIdDep, ServiceDep, SettingsDep, TokenDep
from veo31.api.present import present, present_by_id, present_many
from veo31.api.schemas import GenerationCreate, GenerationList, GenerationPublic, UpgradeCreate
from veo31.domain import Status
from veo31.errors import InputError
from veo31.pipeline.intake import MAX_REFERENCE_VIDEO_BYTES, ReferenceVideo, UploadedImage

router = APIRouter(prefix="/v1/generations", tags=["generations"], dependencies=[TokenDep])

MULTIPART_FILE_FIELDS = ("images", "image", "reference_image1", "reference_image2", "reference_image3")
VIDEO_FILE_FIELDS = ("video", "video_reference")

IdempotencyKey = Annotated[
    str | None,
    Header(max_length=200, description="the same key again repeats the request instead of doing it twice"),
]

CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": GenerationCreate.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "images": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 3},
                        "video": {"type": "string", "format": "binary", "description": "a reference video"},
                        "image_urls": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                        **{name: {"type": "string"} for name in GenerationCreate.model_fields if name != "image_urls"},
                    },
                }
            },
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=GenerationPublic,
    openapi_extra=CREATE_BODY,
    responses={200: {"description": "the generation this Idempotency-Key already made"}},
)
async def create_generation(
    request: Request,
    response: Response,
    service: ServiceDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerationPublic:
    """Start a generation. Send the same `Idempotency-Key` again and you get the same generation, never a second."""
    body, uploads, video = await read_create_request(request, settings.max_image_bytes)
    created = await service.create(
        body.spec(),
        uploads=uploads,
        image_urls=body.image_urls,
        idempotency_key=idempotency_key,
        video=video,
    )
    if not created.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/generations/{created.generation.id}"
    return await present(request, settings, service, created.generation)


Parsed = tuple[GenerationCreate, list[UploadedImage], ReferenceVideo | None]


async def read_create_request(request: Request, max_image_bytes: int) -> Parsed:
    """JSON (image and video URLs) or multipart (files and the same fields), checked the same way."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = GenerationCreate.model_validate_json(await request.body())
        except ValidationError as exc:
            raise InputError(describe(exc)) from None
        return body, [], ReferenceVideo(url=body.video_url) if body.video_url else None
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await read_form(request, max_image_bytes)
    raise InputError(
        "send JSON (application/json) with image_urls, or multipart/form-data with image files", field="content-type"
    )


async def read_form(request: Request, max_image_bytes: int) -> Parsed:
    fields: dict[str, Any] = {}
    uploads: list[UploadedImage] = []
    video: ReferenceVideo | None = None
    async with request.form(max_files=10, max_fields=60, max_part_size=64 * 1024) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name in VIDEO_FILE_FIELDS:
                    video = await read_video(value)
                elif name in MULTIPART_FILE_FIELDS:
                    uploads.append(await read_upload(value, max_image_bytes))
                else:
                    raise InputError(
                        f"unexpected file field {name!r}; send images as 'images', a video as 'video'", field=name
                    )
            elif name == "image_urls":
                fields.setdefault("image_urls", []).extend(split_urls(value))
            elif value != "":
                fields[name] = value
    try:
        body = GenerationCreate.model_validate(fields)
    except ValidationError as exc:
        raise InputError(describe(exc)) from None
    return body, uploads, video or (ReferenceVideo(url=body.video_url) if body.video_url else None)


async def read_video(upload: UploadFile) -> ReferenceVideo:
    content = await upload.read(MAX_REFERENCE_VIDEO_BYTES + 1)
    if len(content) > MAX_REFERENCE_VIDEO_BYTES:
        raise InputError("the reference video is larger than 200 MB", field="video")
    return ReferenceVideo(content=content, filename=upload.filename)


async def read_upload(upload: UploadFile, max_bytes: int) -> UploadedImage:
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise InputError(
            f"{upload.filename or 'an upload'} is larger than {max_bytes // (1024 * 1024)} MB", field="images"
        )
    return UploadedImage(content, upload.filename)


def split_urls(value: str) -> list[str]:
    """URLs repeated or comma-separated (the old form allowed both); a JSON list is accepted too."""
    text = value.strip()
    if text.startswith("["):
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            return [str(item).strip() for item in decoded if str(item).strip()]
    return [part.strip() for part in text.split(",") if part.strip()]


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        parts.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


@router.get("", response_model=GenerationList)
async def list_generations(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    status: Annotated[Status | None, Query(description="only generations with this status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    include_upgrades: Annotated[
        bool, Query(description="false: only originals (their renditions are listed inside each)")
    ] = True,
) -> GenerationList:
    """Newest first. Pass `next_cursor` back as `cursor` for the next page."""
    (items, following), cost = await asyncio.gather(
        service.list(status=status, limit=limit, cursor=cursor, include_upgrades=include_upgrades),
        service.total_cost(status),
    )
    return GenerationList(
        items=await present_many(request, settings, service, items), next_cursor=following, cost_total_usd=cost
    )


@router.get("/{generation_id}", response_model=GenerationPublic)
async def get_generation(
    generation_id: GenerationIdDep, request: Request, service: ServiceDep, settings: SettingsDep
) -> GenerationPublic:
    return await present_by_id(request, settings, service, generation_id)


@router.post("/{generation_id}/cancel", response_model=GenerationPublic)
async def cancel_generation(
    generation_id: GenerationIdDep,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerationPublic:
    canceled = await service.cancel(generation_id, idempotency_key)
    return await present(request, settings, service, canceled)


@router.post(
    "/{generation_id}/retry",
    status_code=201,
    response_model=GenerationPublic,
    responses={200: {"description": "the retry of this generation that is already queued, under way or finished"}},
)
async def retry_generation(
    generation_id: GenerationIdDep,
    request: Request,
    response: Response,
    service: ServiceDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerationPublic:
    """A new generation with the same request, linked to this failed or canceled one (`parent_id`). One at a
    time: while a retry of it is queued, under way or finished, asking again answers with that one (200)."""
    created = await service.retry(generation_id, idempotency_key)
    if not created.created:
        response.status_code = 200
    return await present(request, settings, service, created.generation)


@router.post("/{generation_id}/fetch", response_model=GenerationPublic)
async def fetch_generation(
    generation_id: GenerationIdDep, request: Request, service: ServiceDep, settings: SettingsDep
) -> GenerationPublic:
    """Ask the provider again about a generation that timed out, and retrieve the video if it finished."""
    return await present(request, settings, service, await service.fetch(generation_id))


@router.post(
    "/{generation_id}/upgrade",
    status_code=201,
    response_model=GenerationPublic,
    responses={200: {"description": "this rendition already exists or is under way"}},
)
async def upgrade_generation(
    generation_id: GenerationIdDep,
    body: UpgradeCreate,
    request: Request,
    response: Response,
    service: ServiceDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerationPublic:
    """The 1080p or 4K rendition of a finished generation: a new generation (`upgrade_of` names this one) made by
    the same provider from the same task, tracked, downloaded and verified like any other. Asking again while it
    exists returns it (200) and costs nothing more."""
    created = await service.upgrade(generation_id, body.resolution, idempotency_key)
    if not created.created:
        response.status_code = 200
    return await present(request, settings, service, created.generation)
