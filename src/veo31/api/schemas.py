"""What the API accepts and answers. `…Create` comes in, `…Public` goes out; internal fields (the callback token,
provider keys) have no place here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from veo31.domain import RESOLUTION_RANK, Capabilities, Generation, GenerationSpec, Status
from veo31.errors import advice_for
from veo31.finishing.presets import PRESETS
from veo31.providers.registry import known, label_of
from veo31.quality.report import QualityReport


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
    advice: str | None = Field(default=None, description="what to do about it, in plain words")


class RenditionPublic(BaseModel):
    """A 1080p / 4K upgrade of a generation, as the source generation lists it."""

    id: str
    resolution: str
    status: str
    video_url: str | None
    download_url: str | None
    download_name: str = Field(description="the file name a download of the video gets: the product and the day")
    poster_url: str | None
    video: dict[str, Any] | None
    error: ErrorPublic | None
    created_at: datetime


class DeliverablePublic(BaseModel):
    """A finished video made ready for one channel preset, as its source lists it."""

    id: str
    preset: str
    label: str
    status: str
    video_url: str | None = Field(description="the file (an MP4, or for `preview` an animated WebP), with Range")
    download_url: str | None
    download_name: str
    width: int | None
    height: int | None
    duration_seconds: float | None
    bytes: int | None
    brand_kit: str | None = Field(default=None, description="the brand kit it was made with")
    brand_kit_version: int | None = None
    letterbox: bool = Field(default=False, description="bars asked for instead of a backdrop extended from the picture")
    price: str | None = None
    error: ErrorPublic | None


class UpgradeOption(BaseModel):
    resolution: str
    cost: str | None = Field(description="the provider's extra charge, where known")


class UpgradeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Literal["1080p", "4k"]


def error_of(generation: Generation) -> ErrorPublic | None:
    if not (generation.error_kind or generation.error_message):
        return None
    return ErrorPublic(
        kind=generation.error_kind or "unknown",
        message=generation.error_message or "",
        advice=advice_for(generation.error_kind, label_of(generation.provider)),
    )


def upgrade_options(generation: Generation) -> list[UpgradeOption]:
    """The renditions a finished original can still get from its provider."""
    entry = known(generation.provider)
    caps = entry.capabilities if entry else None
    if caps is None or generation.upgrade_of or generation.deliverable_of or generation.status is not Status.COMPLETED:
        return []
    current = RESOLUTION_RANK[generation.spec.resolution]
    return [
        UpgradeOption(resolution=resolution, cost=caps.upgrade_costs.get(resolution))
        for resolution in caps.upgrades
        if RESOLUTION_RANK.get(resolution, -1) > current
    ]


class CostPublic(BaseModel):
    estimate_usd: float | None = Field(description="before submitting, from the price settings")
    reported_usd: float | None = Field(description="what it cost, as the provider reported (or 0 when not charged)")
    basis: str | None = Field(description="how the figure was reached")
    earlier_attempts_usd: float = Field(default=0.0, description="what attempts the quality gate set aside cost")


class AttemptPublic(BaseModel):
    """An earlier paid attempt the quality gate set aside (`VEO31_QUALITY_GATE=retry`): its video is kept."""

    number: int
    task_id: str | None
    seed: int | None
    video_url: str
    video: dict[str, Any] | None
    cost_usd: float | None
    quality: QualityReport | None


def quality_of(report: dict[str, Any] | None, frame_url: str | None) -> QualityReport | None:
    """The stored report as answered: its picture as our link."""
    return QualityReport.model_validate({**report, "frame": frame_url}) if report else None


def attempts_of(generation: Generation, videos: list[str]) -> list[AttemptPublic]:
    """Its set-aside attempts, with the links `videos` gives (else their paths on this server)."""
    root = f"/v1/generations/{generation.id}/attempts"
    return [
        AttemptPublic(
            number=number,
            task_id=attempt.get("task_id"),
            seed=attempt.get("seed"),
            video_url=videos[number - 1] if number <= len(videos) else f"{root}/{number}/video",
            video=attempt.get("video"),
            cost_usd=attempt.get("cost_usd"),
            quality=quality_of(attempt.get("quality"), None),
        )
        for number, attempt in enumerate(generation.attempts, start=1)
    ]


MEDIA_LINKS = ("video", "download", "poster", "quality_frame")  # answered in fields of their own


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
    download_name: str = Field(description="the file name a download of the video gets: the product and the day")
    poster_url: str | None
    provider_video_url: str | None = Field(description="the provider's own link, kept for reference; it expires")
    video: dict[str, Any] | None
    error: ErrorPublic | None
    warnings: list[str]
    history: list[StatusChangePublic]
    references: list[ReferencePublic]
    parent_id: str | None = Field(description="the failed or canceled generation this one retried")
    upgrade_of: str | None = Field(description="the generation this one is a 1080p / 4K rendition of")
    renditions: list[RenditionPublic] = Field(description="this generation's 1080p / 4K upgrades")
    cost: CostPublic
    quality: QualityReport | None = Field(
        description="the quality gate's report on the video: passed, score 0–1, every check, and `frame`, a picture "
        "of the reference beside the worst frame (null until checked, or with VEO31_QUALITY_GATE=off)"
    )
    attempts: list[AttemptPublic] = Field(description="earlier paid attempts the quality gate set aside")
    deliverables: list[DeliverablePublic] = Field(description="its video made ready for channel presets")
    upgrade_options: list[UpgradeOption] = Field(description="upgrades its provider still offers")
    created_at: datetime
    updated_at: datetime
    links: dict[str, str]

    @classmethod
    def of(
        cls,
        generation: Generation,
        links: dict[str, str | None],
        renditions: list[RenditionPublic] | None = None,
        attempt_videos: list[str] | None = None,
        deliverables: list[DeliverablePublic] | None = None,
    ) -> GenerationPublic:
        return cls(
            id=generation.id,
            status=generation.status.value,
            provider=generation.provider,
            provider_label=label_of(generation.provider),
            mode=generation.mode,
            spec=generation.spec,
            analysis=generation.analysis,
            prompt=generation.prompt,
            negative_prompt=generation.negative_prompt,
            prompt_writer=generation.prompt_writer,
            provider_task_id=generation.provider_task_id,
            video_url=links.get("video"),
            download_url=links.get("download"),
            download_name=generation.download_name("mp4"),
            poster_url=links.get("poster"),
            provider_video_url=generation.provider_video_url,
            video=generation.video_info,
            error=error_of(generation),
            warnings=list(generation.warnings),
            history=[StatusChangePublic(status=c.status.value, at=c.at, detail=c.detail) for c in generation.history],
            references=[
                ReferencePublic(
                    sha256=r.sha256, mime_type=r.mime_type, width=r.width, height=r.height, source_url=r.source_url
                )
                for r in generation.references
            ],
            parent_id=generation.parent_id,
            upgrade_of=generation.upgrade_of,
            renditions=renditions or [],
            cost=CostPublic(
                estimate_usd=generation.cost_estimate_usd,
                reported_usd=generation.cost_usd,
                basis=generation.cost_basis,
                earlier_attempts_usd=generation.earlier_cost_usd,
            ),
            quality=quality_of(generation.quality, links.get("quality_frame")),
            attempts=attempts_of(generation, attempt_videos or []),
            deliverables=deliverables or [],
            upgrade_options=upgrade_options(generation),
            created_at=generation.created_at,
            updated_at=generation.updated_at,
            links={name: url for name, url in links.items() if url and name not in MEDIA_LINKS},
        )


def deliverable(generation: Generation, links: dict[str, str | None]) -> DeliverablePublic:
    info = generation.video_info or {}
    preset = PRESETS.get(generation.preset or "")
    return DeliverablePublic(
        id=generation.id,
        preset=generation.preset or "",
        label=preset.label if preset else generation.preset or "",
        status=generation.status.value,
        video_url=links.get("video"),
        download_url=links.get("download"),
        download_name=generation.download_name("mp4"),
        width=info.get("width"),
        height=info.get("height"),
        duration_seconds=info.get("duration"),
        bytes=info.get("bytes"),
        brand_kit=(generation.branding or {}).get("kit"),
        brand_kit_version=(generation.branding or {}).get("version"),
        price=(generation.branding or {}).get("price"),
        letterbox=bool((generation.branding or {}).get("letterbox")),
        error=error_of(generation),
    )


def rendition(generation: Generation, links: dict[str, str | None]) -> RenditionPublic:
    return RenditionPublic(
        id=generation.id,
        resolution=generation.spec.resolution,
        status=generation.status.value,
        video_url=links.get("video"),
        download_url=links.get("download"),
        download_name=generation.download_name("mp4"),
        poster_url=links.get("poster"),
        video=generation.video_info,
        error=error_of(generation),
        created_at=generation.created_at,
    )


class CapabilitiesPublic(BaseModel):
    durations: list[int]
    aspect_ratios: list[str]
    resolutions: list[str]
    images: dict[str, tuple[int, int]] = Field(description="mode → (fewest, most) reference images")
    model_tiers: list[str]
    tiers_by_mode: dict[str, list[str]]
    durations_by_mode: dict[str, list[int]]
    durations_by_resolution: dict[str, list[int]]
    resolutions_by_tier: dict[str, list[str]]
    callbacks: bool
    frame_rates: list[int]
    upgrades: list[UpgradeOption]
    follows_prompt: bool = Field(description="false: the video is made from the photos alone; the prompt is kept")

    @classmethod
    def of(cls, caps: Capabilities) -> CapabilitiesPublic:
        return cls(
            durations=list(caps.durations),
            aspect_ratios=list(caps.aspect_ratios),
            resolutions=list(caps.resolutions),
            images=dict(caps.images),
            model_tiers=list(caps.model_tiers),
            tiers_by_mode={mode: list(tiers) for mode, tiers in caps.tiers_by_mode.items()},
            durations_by_mode={mode: list(items) for mode, items in caps.durations_by_mode.items()},
            durations_by_resolution={res: list(items) for res, items in caps.durations_by_resolution.items()},
            resolutions_by_tier={tier: list(items) for tier, items in caps.resolutions_by_tier.items()},
            callbacks=caps.callbacks,
            frame_rates=list(caps.frame_rates),
            upgrades=[UpgradeOption(resolution=r, cost=caps.upgrade_costs.get(r)) for r in caps.upgrades],
            follows_prompt=caps.follows_prompt,
        )


class ProviderPublic(BaseModel):
    name: str
    label: str
    available: bool = Field(description="configured on this server and usable now")
    reason: str | None = Field(description="why it is not available, and what to do")
    capabilities: CapabilitiesPublic | None


class LimitsPublic(BaseModel):
    """What the server accepts for reference images, so a form can warn early (the server still decides)."""

    max_images: int
    max_image_bytes: int
    min_image_side: int = Field(description="pixels: a smaller photo is refused")
    image_types: list[str]
    use_cases: list[str]


class ProviderList(BaseModel):
    auto: str | None = Field(description="the provider `auto` sends to, if any is configured")
    providers: list[ProviderPublic]
    limits: LimitsPublic


class GenerationList(BaseModel):
    items: list[GenerationPublic]
    next_cursor: str | None
    cost_total_usd: float = Field(description="what every generation matching the filter cost (or may still cost)")


class EstimatePublic(BaseModel):
    possible: bool = Field(description="false: no configured provider can make this; `reason` says why")
    reason: str | None = None
    provider: str | None = None
    provider_label: str | None = None
    mode: str | None = None
    estimate_usd: float | None = None
    basis: str | None = None
    budget_left_usd: float | None = Field(description="what is left under VEO31_BUDGET_LIMIT; null when none is set")
    notes: list[str] = Field(default_factory=list, description="why providers before this one were passed over")


class ProblemPublic(BaseModel):
    error: str
    detail: str
    field: str | None = None
    allowed: list[Any] | None = None
