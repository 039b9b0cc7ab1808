"""/v1/analyses: steps 1 and 2 alone — what the references show and the prompt written from it — to edit and then
send as `prompt` to POST /v1/generations. Nothing is stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from veo31.api.deps import ServiceDep, SettingsDep, TokenDep
from veo31.api.routes.generations import CREATE_BODY, read_create_request

router = APIRouter(prefix="/v1/analyses", tags=["analyses"], dependencies=[TokenDep])


class AnalysisPublic(BaseModel):
    analysis: dict[str, Any]
    prompt: str
    negative_prompt: str
    writer: str


@router.post("", response_model=AnalysisPublic, openapi_extra=CREATE_BODY)
async def analyse(request: Request, service: ServiceDep, settings: SettingsDep) -> AnalysisPublic:
    body, uploads, video = await read_create_request(request, settings.max_image_bytes)
    analysis, written = await service.analyse(body.spec(), uploads=uploads, image_urls=body.image_urls, video=video)
    return AnalysisPublic(
        analysis=analysis.model_dump(mode="json"),
        prompt=written.prompt,
        negative_prompt=written.negative_prompt,
        writer=written.writer,
    )
