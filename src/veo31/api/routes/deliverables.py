"""/v1/generations/{id}/deliverables and /v1/presets: a finished video made ready for channels — one deliverable per
preset, each a tracked generation of its own, made once (asking again answers the one that exists)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from veo31.api.deps import GenerationIdDep, ServiceDep, SettingsDep, TokenDep, generation_links
from veo31.api.schemas import DeliverablePublic, deliverable
from veo31.finishing.presets import PRESETS

router = APIRouter(tags=["deliverables"], dependencies=[TokenDep])


class DeliverablesCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presets: list[str] = Field(min_length=1, max_length=len(PRESETS), description=f"any of {', '.join(PRESETS)}")


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
    made = await service.deliver(generation_id, body.presets)
    if not any(created for _, created in made):
        response.status_code = 200
    return DeliverableList(
        deliverables=[
            deliverable(generation, generation_links(request, settings, generation)) for generation, _ in made
        ]
    )


@router.get("/v1/presets", response_model=list[PresetPublic])
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
