"""Brand kits as people make and change them: the settings checked (`finishing.brand.BrandKit`), the logo checked like
any photo (transparency kept) and the music as a sound file, both stored by their content, every change a new
version — and the snapshot a deliverable keeps of the kit it is made with."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from veo31.errors import InputError, NotFoundError
from veo31.finishing.audio import check_music
from veo31.finishing.brand import BrandKit
from veo31.media.intake import normalise_image
from veo31.pipeline.runtime import Runtime
from veo31.store import brand_kits as store
from veo31.store.brand_kits import StoredKit


@dataclass(frozen=True)
class Upload:
    """What a person sends with a kit's settings: a new logo, new music, or the music taken away."""

    logo: bytes | None = None
    music: bytes | None = None
    drop_music: bool = False


async def save_kit(runtime: Runtime, kit: BrandKit, upload: Upload, kit_id: str | None = None) -> StoredKit:
    """A new kit, or (with `kit_id`) the next version of one; an update keeps the logo and music it had unless
    `upload` brings others. Files are checked before anything is stored."""
    chosen = kit_id or store.new_kit_id()
    logo_key = music_key = None
    if upload.logo is not None:
        image = await asyncio.to_thread(normalise_image, upload.logo, label="the logo")
        logo_key = f"brand-kits/{chosen}/{image.sha256[:24]}.{image.extension}"
    if upload.music is not None:
        extension = await asyncio.to_thread(check_music, upload.music)
        music_key = f"brand-kits/{chosen}/music-{hashlib.sha256(upload.music).hexdigest()[:24]}.{extension}"
        await asyncio.to_thread(runtime.blobs.put_bytes, music_key, upload.music)
    if logo_key is not None:
        await asyncio.to_thread(runtime.blobs.put_bytes, logo_key, image.content)
    settings = kit.model_dump(mode="json")
    files = store.KitFiles(logo_key, music_key, upload.drop_music and upload.music is None)
    if kit_id is None:
        return await asyncio.to_thread(store.create_kit, runtime.engine, chosen, settings, files)
    return await asyncio.to_thread(store.update_kit, runtime.engine, chosen, settings, files)


async def branding_for(runtime: Runtime, kit_id: str | None, price: str | None) -> dict[str, Any] | None:
    """What a deliverable keeps of its branding: the kit as it is now (its version), and the price it shows."""
    if kit_id is None:
        if price:
            raise InputError("a price is shown with a brand kit: name one as well", field="brand_kit")
        return None
    kit = await asyncio.to_thread(store.get_kit, runtime.engine, kit_id)
    return {
        "kit": kit.id,
        "version": kit.version,
        "settings": kit.settings,
        "logo_key": kit.logo_key,
        "music_key": kit.music_key,
        "price": price,
    }


class BrandKits:
    """The kits, as the API and the CLI ask for them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def save(self, kit: BrandKit, upload: Upload, kit_id: str | None = None) -> StoredKit:
        return await save_kit(self.runtime, kit, upload, kit_id)

    async def get(self, kit_id: str) -> StoredKit:
        return await asyncio.to_thread(store.get_kit, self.runtime.engine, kit_id)

    async def all(self) -> list[StoredKit]:
        return await asyncio.to_thread(store.list_kits, self.runtime.engine)

    async def file(self, kit_id: str, kind: str) -> str:
        """The blob key of the kit's `logo` or `music`."""
        kit = await self.get(kit_id)
        key = kit.logo_key if kind == "logo" else kit.music_key
        if not key:
            raise NotFoundError(f"brand kit {kit_id} has no {kind}")
        return key
