"""/v1/providers: which providers this server can use and what each can make — the page builds its form from it.
/v1/estimate: where a generation like this would go and what it would cost, before anything is created."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import ValidationError

from veo31.api.deps import ServiceDep, SettingsDep, TokenDep
from veo31.api.schemas import CapabilitiesPublic, EstimatePublic, LimitsPublic, ProviderList, ProviderPublic
from veo31.domain import (
    MAX_REFERENCE_IMAGES,
    USE_CASES,
    AspectRatio,
    GenerationSpec,
    Mode,
    ModelTier,
    ProviderChoice,
    Resolution,
)
from veo31.errors import ConfigurationError, InputError
from veo31.media.intake import FORMATS, MIN_SIDE
from veo31.providers.registry import auto_order, label_of

router = APIRouter(prefix="/v1", tags=["providers"], dependencies=[TokenDep])


@router.get("/providers", response_model=ProviderList)
async def list_providers(service: ServiceDep, settings: SettingsDep) -> ProviderList:
    overview = service.providers()
    return ProviderList(
        auto=next(iter(auto_order(settings)), None),
        providers=[
            ProviderPublic(
                name=info.name,
                label=info.label,
                available=info.available,
                reason=info.reason,
                capabilities=CapabilitiesPublic.of(info.capabilities) if info.capabilities else None,
            )
            for info in overview
        ],
        limits=LimitsPublic(
            max_images=MAX_REFERENCE_IMAGES,
            max_image_bytes=settings.max_image_bytes,
            min_image_side=MIN_SIDE,
            image_types=sorted(FORMATS.values()),
            use_cases=list(USE_CASES),
        ),
    )


@router.get("/estimate", response_model=EstimatePublic)
async def estimate_cost(
    service: ServiceDep,
    provider: Annotated[ProviderChoice, Query()] = "auto",
    model_tier: Annotated[ModelTier, Query()] = "fast",
    duration_seconds: Annotated[int, Query(ge=1, le=60)] = 8,
    resolution: Annotated[Resolution, Query()] = "720p",
    aspect_ratio: Annotated[AspectRatio, Query()] = "16:9",
    mode: Annotated[Mode, Query()] = "auto",
    images: Annotated[int, Query(ge=0, le=10, description="how many reference images it will have")] = 1,
) -> EstimatePublic:
    """What a generation with these settings would cost and where it would go (nothing is created). When it cannot
    be made, `possible` is false and `reason` is the refusal the generation itself would get (a form asks this
    on every change, so that is an answer, not an error)."""
    try:
        spec = GenerationSpec(
            provider=provider,
            model_tier=model_tier,
            duration_seconds=duration_seconds,
            resolution=resolution,
            aspect_ratio=aspect_ratio,
            mode=mode,
        )
    except ValidationError as exc:
        raise InputError(str(exc.errors()[0].get("msg", "invalid"))) from None
    try:
        chosen, cost, left = await service.quote(spec, images)
    except (InputError, ConfigurationError) as error:
        return EstimatePublic(possible=False, reason=error.message, budget_left_usd=None)
    return EstimatePublic(
        possible=True,
        provider=chosen.provider,
        provider_label=label_of(chosen.provider),
        mode=chosen.mode,
        estimate_usd=cost.usd,
        basis=cost.basis,
        budget_left_usd=left,
        notes=list(chosen.notes),
    )
