"""/v1/brand-kits: a shop's logo, colours, call to action and end card, used by deliverables. Multipart (the logo is
a file, checked like any photo, its transparency kept); every change makes a new version, and a deliverable keeps
the version it was made with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from veo31.api.delivery import blob_response
from veo31.api.deps import ServiceDep, SettingsDep, TokenDep, base_url
from veo31.config import Settings
from veo31.errors import InputError
from veo31.finishing.brand import BrandKit
from veo31.store.brand_kits import StoredKit

router = APIRouter(prefix="/v1/brand-kits", tags=["brand kits"], dependencies=[TokenDep])
MAX_LOGO_BYTES = 5 * 1024 * 1024


class BrandKitPublic(BrandKit):
    id: str
    version: int
    logo_url: str | None


def shown(request: Request, settings: Settings, kit: StoredKit) -> BrandKitPublic:
    logo = f"{base_url(request, settings)}/v1/brand-kits/{kit.id}/logo" if kit.logo_key else None
    return BrandKitPublic(**kit.settings, id=kit.id, version=kit.version, logo_url=logo)


async def read_kit(
    name: str,
    primary: str | None,
    text: str | None,
    background: str | None,
    logo_corner: str | None,
    cta: str | None,
    end_card_seconds: float | None,
    logo: UploadFile | None,
) -> tuple[BrandKit, bytes | None]:
    given = dict(
        name=name,
        primary=primary,
        text=text,
        background=background,
        logo_corner=logo_corner,
        cta=cta or None,
        end_card_seconds=end_card_seconds,
    )
    try:
        kit = BrandKit(**{field: value for field, value in given.items() if value is not None})
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "name"
        raise InputError(f"{field}: {first['msg'].removeprefix('Value error, ')}", field=field) from None
    content = None
    if logo is not None and logo.filename:
        content = await logo.read(MAX_LOGO_BYTES + 1)
        if len(content) > MAX_LOGO_BYTES:
            raise InputError(f"the logo is larger than {MAX_LOGO_BYTES // (1024 * 1024)} MB", field="logo")
    return kit, content


Text = Annotated[str | None, Form()]


@router.post("", status_code=201, response_model=BrandKitPublic)
async def create_kit(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=80)],
    primary: Text = None,
    text: Text = None,
    background: Text = None,
    logo_corner: Text = None,
    cta: Text = None,
    end_card_seconds: Annotated[float | None, Form()] = None,
    logo: Annotated[UploadFile | None, File(description="PNG, WebP or JPEG; transparency kept")] = None,
) -> BrandKitPublic:
    kit, content = await read_kit(name, primary, text, background, logo_corner, cta, end_card_seconds, logo)
    return shown(request, settings, await service.brand_kits.save(kit, content))


@router.put("/{kit_id}", response_model=BrandKitPublic)
async def update_kit(
    kit_id: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=80)],
    primary: Text = None,
    text: Text = None,
    background: Text = None,
    logo_corner: Text = None,
    cta: Text = None,
    end_card_seconds: Annotated[float | None, Form()] = None,
    logo: Annotated[UploadFile | None, File(description="a new logo; without one the kit keeps its own")] = None,
) -> BrandKitPublic:
    """The kit's next version (deliverables made with an earlier one keep theirs)."""
    await service.brand_kits.get(kit_id)  # an unknown kit is a 404 before anything is stored
    kit, content = await read_kit(name, primary, text, background, logo_corner, cta, end_card_seconds, logo)
    return shown(request, settings, await service.brand_kits.save(kit, content, kit_id))


class BrandKitList(BaseModel):
    items: list[BrandKitPublic]


@router.get("", response_model=BrandKitList)
async def list_kits(request: Request, service: ServiceDep, settings: SettingsDep) -> BrandKitList:
    return BrandKitList(items=[shown(request, settings, kit) for kit in await service.brand_kits.all()])


@router.get("/{kit_id}", response_model=BrandKitPublic)
async def get_kit(kit_id: str, request: Request, service: ServiceDep, settings: SettingsDep) -> BrandKitPublic:
    return shown(request, settings, await service.brand_kits.get(kit_id))


@router.get("/{kit_id}/logo", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def logo(kit_id: str, service: ServiceDep, settings: SettingsDep) -> Response:
    key = await service.brand_kits.logo(kit_id)
    kind = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}[key.rsplit(".", 1)[-1]]
    return await blob_response(service.blobs, settings, key, range_header=None, media_type=kind)
