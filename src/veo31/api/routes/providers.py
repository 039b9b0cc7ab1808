"""/v1/providers: which providers this server can use and what each can make — the page builds its form from it."""

from __future__ import annotations

from fastapi import APIRouter

from veo31.api.deps import ServiceDep, SettingsDep, TokenDep
from veo31.api.schemas import CapabilitiesPublic, LimitsPublic, ProviderList, ProviderPublic
from veo31.domain import MAX_REFERENCE_IMAGES, USE_CASES
from veo31.media.intake import FORMATS

router = APIRouter(prefix="/v1/providers", tags=["providers"], dependencies=[TokenDep])


@router.get("", response_model=ProviderList)
async def list_providers(service: ServiceDep, settings: SettingsDep) -> ProviderList:
    overview = service.providers()
    return ProviderList(
        auto=next((info.name for info in overview if info.available), None),
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
            image_types=sorted(FORMATS.values()),
            use_cases=list(USE_CASES),
        ),
    )
