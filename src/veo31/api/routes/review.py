"""/v1/generations/{id}/approve and /reject: a person's verdict on a video the quality gate held (`needs_review`,
with VEO31_QUALITY_GATE=hold or retry). Anything not held is refused (409), saying where it stands."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from veo31.api.deps import GenerationIdDep, ServiceDep, SettingsDep, TokenDep
from veo31.api.present import present
from veo31.api.schemas import GenerationPublic
from veo31.pipeline.review import Verdict

router = APIRouter(prefix="/v1/generations", tags=["review"], dependencies=[TokenDep])


class ReviewNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500, description="why, kept in the generation's history")


@router.post("/{generation_id}/approve", response_model=GenerationPublic)
async def approve(
    generation_id: GenerationIdDep,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    body: ReviewNote | None = None,
) -> GenerationPublic:
    """The held video is fine: the generation is completed."""
    generation = await service.review(generation_id, Verdict.APPROVE, body.note if body else None)
    return await present(request, settings, service, generation)


@router.post("/{generation_id}/reject", response_model=GenerationPublic)
async def reject(
    generation_id: GenerationIdDep,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    body: ReviewNote | None = None,
) -> GenerationPublic:
    """The held video is not right: the generation fails with the note as its reason; its video is kept."""
    generation = await service.review(generation_id, Verdict.REJECT, body.note if body else None)
    return await present(request, settings, service, generation)
