"""/v1/providers: which providers this server can use and what each can make — the page builds its form from it."""

from __future__ import annotations

from fastapi import APIRouter

from veo31.api.deps import ServiceDep, TokenDep
from veo31.api.schemas import CapabilitiesPublic, ProviderList, ProviderPublic

router = APIRouter(prefix="/v1/providers", tags=["providers"], dependencies=[TokenDep])


@router.get("", response_model=ProviderList)
async def list_providers(service: ServiceDep) -> ProviderList:
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
    )
