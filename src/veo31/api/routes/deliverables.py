"""/v1/generations/{id}/deliverables and /v1/presets: a finished video made ready for channels — one deliverable per
preset, each a tracked generation of its own, made once (asking again answers the one that exists)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from veo31.api.deps import GenerationIdDep, ServiceDep, SettingsDep, TokenDep, generation_links
from veo31.api.routes.media import accessible
from veo31.api.schemas import DeliverablePublic, deliverable
from veo31.domain import Generation, Status
from veo31.errors import NotFoundError
from veo31.finishing.presets import PRESETS
from veo31.pipeline.deliverables import Finish
from veo31.store.blobs import BlobStore

# Tokens are asked for by each route (`check_access`, or the POST's dependency), so the ZIP link, like a video
# link, can carry its signature instead.
router = APIRouter(tags=["deliverables"])


class DeliverablesCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presets: list[str] = Field(min_length=1, max_length=len(PRESETS), description=f"any of {', '.join(PRESETS)}")
    brand_kit: str | None = Field(default=None, max_length=32, description="a brand kit's id: logo, lines, end card")
    price: str | None = Field(default=None, max_length=20, description="shown with the brand kit, e.g. '€29'")
    letterbox: bool = Field(
        default=False,
        description="bars where the channel's shape is wider or taller than the video allows, instead of a backdrop "
        "extended from the picture",
    )


class DeliverableList(BaseModel):
    deliverables: list[DeliverablePublic]


class PresetPublic(BaseModel):
    name: str
    label: str
    width: int
    height: int
    max_seconds: float
    max_bytes: int
    container: str
    audio: bool
    loudness_lufs: float | None
    safe_zone: dict[str, float] = Field(description="the share of each side the channel's app may cover")


@router.post(
    "/v1/generations/{generation_id}/deliverables",
    dependencies=[TokenDep],
    status_code=201,
    response_model=DeliverableList,
    responses={200: {"description": "every one asked for exists already or is under way: nothing new is made"}},
)
async def create_deliverables(
    generation_id: GenerationIdDep,
    body: DeliverablesCreate,
    request: Request,
    response: Response,
    service: ServiceDep,
    settings: SettingsDep,
) -> DeliverableList:
    """The finished video made ready for each preset: reframed around the product inside the channel's safe zone,
    encoded for it, stored and verified. 409 while the video is not finished, or failed the quality checks and no
    person approved it."""
    made = await service.deliver(generation_id, body.presets, Finish(body.brand_kit, body.price, body.letterbox))
    if not any(created for _, created in made):
        response.status_code = 200
    return DeliverableList(
        deliverables=[
            deliverable(generation, generation_links(request, settings, generation)) for generation, _ in made
        ]
    )


@router.get(
    "/v1/generations/{generation_id}/deliverables.zip",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
async def deliverables_zip(
    generation_id: GenerationIdDep,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    sig: Annotated[str | None, Query(max_length=64)] = None,
) -> FileResponse:
    """Every finished deliverable of a generation in one ZIP file (stored, not compressed again: videos are)."""
    source = await accessible(request, settings, service, generation_id, sig)
    made = [item for item in (await service.deliverables_of([source.id]))[source.id] if item.status is Status.COMPLETED]
    if not made:
        raise NotFoundError(f"generation {source.id} has no finished deliverable yet; make some first")
    archive = await asyncio.to_thread(_zipped, service.blobs, made)
    background.add_task(archive.unlink, missing_ok=True)
    name = source.download_name().rsplit(".", 1)[0]
    return FileResponse(archive, media_type="application/zip", filename=f"{name}-channels.zip")


def _zipped(blobs: BlobStore, made: list[Generation]) -> Path:
    handle, scratch = tempfile.mkstemp(dir=blobs.scratch_dir(), prefix="deliverables-", suffix=".zip")
    os.close(handle)
    names: set[str] = set()
    with zipfile.ZipFile(scratch, "w", compression=zipfile.ZIP_STORED) as archive:
        for item in made:
            name = item.download_name()
            if name in names:  # two versions alike but for what their names leave out: each kept
                stem, _, extension = name.rpartition(".")
                name = f"{stem}-{item.id[:8]}.{extension}"
            names.add(name)
            with archive.open(name, "w", force_zip64=True) as sink:
                sink.write(blobs.read_bytes(item.video_key or ""))
    return Path(scratch)


@router.get("/v1/presets", response_model=list[PresetPublic], dependencies=[TokenDep])
async def presets() -> list[PresetPublic]:
    """The channels a video can be delivered for, with their size, limits and safe zones."""
    return [
        PresetPublic(
            name=preset.name,
            label=preset.label,
            width=preset.width,
            height=preset.height,
            max_seconds=preset.max_seconds,
            max_bytes=preset.max_bytes,
            container=preset.container.value,
            audio=preset.audio,
            loudness_lufs=preset.loudness_lufs if preset.audio else None,
            safe_zone=vars(preset.safe),
        )
        for preset in PRESETS.values()
    ]
