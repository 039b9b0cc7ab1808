"""What the API accepts and answers. `…Create` comes in, `…Public` goes out; internal fields (the callback token,
provider keys) have no place here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from veo31.domain import Generation, GenerationSpec
from veo31.providers.registry import LABELS


class GenerationCreate(GenerationSpec):
    """A new generation: the request spec plus up to three reference image URLs (uploads go as multipart)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_urls: list[str] = Field(default_factory=list, max_length=3, description="public http(s) image URLs")
    video_url: str | None = Field(
        default=None, max_length=2000, description="a reference video whose camera motion the prompt should follow"
    )

    def spec(self) -> GenerationSpec:
        return GenerationSpec.model_validate(self.model_dump(exclude={"image_urls", "video_url"}))


class StatusChangePublic(BaseModel):
    status: str
    at: datetime
    detail: str | None = None


class ReferencePublic(BaseModel):
    sha256: str
    mime_type: str
    width: int
    height: int
    source_url: str | None = None


class ErrorPublic(BaseModel):
    kind: str
    message: str


class GenerationPublic(BaseModel):
    id: str
    status: str
    provider: str | None
    provider_label: str | None
    mode: str | None
    spec: GenerationSpec
    analysis: dict[str, Any] | None = Field(description="step 1: what the reference photos show")
    prompt: str | None
    negative_prompt: str | None
    prompt_writer: str | None
    provider_task_id: str | None
    video_url: str | None = Field(description="our stable URL for the video (HTTP Range); it does not expire")
    download_url: str | None
    poster_url: str | None
    provider_video_url: str | None = Field(description="the provider's own link, kept for reference; it expires")
    video: dict[str, Any] | None
    error: ErrorPublic | None
    warnings: list[str]
    history: list[StatusChangePublic]
    references: list[ReferencePublic]
    parent_id: str | None
    created_at: datetime
    updated_at: datetime
    links: dict[str, str]

    @classmethod
    def of(cls, generation: Generation, links: dict[str, str | None]) -> GenerationPublic:
        error = (
            ErrorPublic(kind=generation.error_kind or "unknown", message=generation.error_message or "")
            if (generation.error_kind or generation.error_message)
            else None
        )
        return cls(
            id=generation.id,
            status=generation.status.value,
            provider=generation.provider,
            provider_label=LABELS.get(generation.provider or ""),
            mode=generation.mode,
            spec=generation.spec,
            analysis=generation.analysis,
            prompt=generation.prompt,
            negative_prompt=generation.negative_prompt,
            prompt_writer=generation.prompt_writer,
            provider_task_id=generation.provider_task_id,
            video_url=links.get("video"),
            download_url=links.get("download"),
            poster_url=links.get("poster"),
            provider_video_url=generation.provider_video_url,
            video=generation.video_info,
            error=error,
            warnings=list(generation.warnings),
            history=[StatusChangePublic(status=c.status.value, at=c.at, detail=c.detail) for c in generation.history],
            references=[
                ReferencePublic(
                    sha256=r.sha256, mime_type=r.mime_type, width=r.width, height=r.height, source_url=r.source_url
                )
                for r in generation.references
            ],
            parent_id=generation.parent_id,
            created_at=generation.created_at,
            updated_at=generation.updated_at,
            links={name: url for name, url in links.items() if url and name not in ("video", "download", "poster")},
        )


class GenerationList(BaseModel):
    items: list[GenerationPublic]
    next_cursor: str | None


class ProblemPublic(BaseModel):
    error: str
    detail: str
    field: str | None = None
    allowed: list[Any] | None = None
