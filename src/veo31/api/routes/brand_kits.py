"""/v1/brand-kits: a shop's logo, colours, call to action, end card and music, used by deliverables. Multipart (the
logo is a file, checked like any photo, its transparency kept; the music a sound file that must decode); every
change makes a new version, and a deliverable keeps the version it was made with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from veo31.api.delivery import blob_response
from veo31.api.deps import ServiceDep, SettingsDep, TokenDep, base_url
from veo31.config import Settings
from veo31.errors import InputError
from veo31.finishing.brand import BrandKit
from veo31.pipeline.brand_kits import Upload
from veo31.store.brand_kits import StoredKit

router = APIRouter(prefix="/v1/brand-kits", tags=["brand kits"], dependencies=[TokenDep])
MAX_LOGO_BYTES = 5 * 1024 * 1024
MAX_MUSIC_BYTES = 20 * 1024 * 1024
FILE_TYPES = {
    "png": "image/png",
    "webp": "image/webp",
    "jpg": "image/jpeg",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "mka": "audio/x-matroska",
}


class BrandKitPublic(BrandKit):
    id: str
    version: int
    logo_url: str | None
    music_url: str | None


def shown(request: Request, settings: Settings, kit: StoredKit) -> BrandKitPublic:
    here = f"{base_url(request, settings)}/v1/brand-kits/{kit.id}"
    return BrandKitPublic(
        **kit.settings,
        id=kit.id,
        version=kit.version,
        logo_url=f"{here}/logo" if kit.logo_key else None,
        music_url=f"{here}/music" if kit.music_key else None,
    )


Text = Annotated[str | None, Form()]


async def kit_form(
    name: Annotated[str, Form(max_length=80)],
    primary: Text = None,
    text: Text = None,
    background: Text = None,
    logo_corner: Text = None,
    cta: Text = None,
    end_card_seconds: Annotated[float | None, Form()] = None,
    logo: Annotated[
        UploadFile | None, File(description="PNG, WebP or JPEG, transparency kept; on a change, none keeps the kit's")
    ] = None,
    music: Annotated[
        UploadFile | None,
        File(description="MP3, M4A, WAV, OGG or FLAC, mixed under the clip's sound; on a change, none keeps the kit's"),
    ] = None,
    remove_music: Annotated[bool, Form(description="take the kit's music away")] = False,
) -> tuple[BrandKit, Upload]:
    """A kit's form: its settings checked, its files read within their caps."""
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
    logo_bytes = await _read(logo, MAX_LOGO_BYTES, "the logo", "logo")
    music_bytes = await _read(music, MAX_MUSIC_BYTES, "the music file", "music")
    return kit, Upload(logo_bytes, music_bytes, remove_music)


async def _read(upload: UploadFile | None, cap: int, what: str, field: str) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    content = await upload.read(cap + 1)
    if len(content) > cap:
        raise InputError(f"{what} is larger than {cap // (1024 * 1024)} MB", field=field)
    return content


KitForm = Annotated[tuple[BrandKit, Upload], Depends(kit_form)]


@router.post("", status_code=201, response_model=BrandKitPublic)
async def create_kit(request: Request, service: ServiceDep, settings: SettingsDep, form: KitForm) -> BrandKitPublic:
    return shown(request, settings, await service.brand_kits.save(*form))


@router.put("/{kit_id}", response_model=BrandKitPublic)
async def update_kit(
    kit_id: str, request: Request, service: ServiceDep, settings: SettingsDep, form: KitForm
) -> BrandKitPublic:
    """The kit's next version (deliverables made with an earlier one keep theirs)."""
    await service.brand_kits.get(kit_id)  # an unknown kit is a 404 before anything is stored
    return shown(request, settings, await service.brand_kits.save(*form, kit_id))


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
    key = await service.brand_kits.file(kit_id, "logo")
    return await blob_response(service.blobs, settings, key, range_header=None, media_type=FILE_TYPES[_extension(key)])


@router.get("/{kit_id}/music", response_class=Response, responses={200: {"content": {"audio/mpeg": {}}}})
async def music(kit_id: str, request: Request, service: ServiceDep, settings: SettingsDep) -> Response:
    key = await service.brand_kits.file(kit_id, "music")
    kind = FILE_TYPES.get(_extension(key), "application/octet-stream")
    return await blob_response(service.blobs, settings, key, range_header=request.headers.get("range"), media_type=kind)


def _extension(key: str) -> str:
    return key.rsplit(".", 1)[-1]
