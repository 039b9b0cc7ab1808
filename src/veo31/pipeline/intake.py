"""References as a request brings them — uploads, URLs, a reference video — checked, fetched through the SSRF guard,
normalised and kept once by content; and steps 1 and 2 on them (analyse, write the prompt) for the routes that only
describe, and for local files with no server at all (`veo31 analyze`)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veo31.analysis.choose import Analyser, build_analyser
from veo31.analysis.result import Analysis, VideoNotes
from veo31.analysis.video import read_reference_video
from veo31.config import Settings
from veo31.domain import MAX_REFERENCE_IMAGES, GenerationSpec, ReferenceImage
from veo31.errors import InputError
from veo31.media.intake import NormalisedImage, fetch_reference, normalise_image, without_credentials
from veo31.prompts.choose import PromptWriter, build_prompt_writer
from veo31.prompts.templates import WrittenPrompt
from veo31.store.blobs import BlobStore


@dataclass(frozen=True)
class UploadedImage:
    content: bytes
    filename: str | None = None


@dataclass(frozen=True)
class ReferenceVideo:
    """A reference video for its camera motion: an upload's bytes, or a URL to fetch."""

    content: bytes | None = None
    url: str | None = None
    filename: str | None = None


MAX_REFERENCE_VIDEO_BYTES = 200 * 1024 * 1024


class ReferenceIntake:
    """Takes a request's references in: nothing is stored until every one of them was read and found good."""

    def __init__(self, settings: Settings, blobs: BlobStore) -> None:
        self.settings = settings
        self.blobs = blobs

    async def take_in(
        self, uploads: Sequence[UploadedImage], image_urls: Sequence[str], video: ReferenceVideo | None
    ) -> tuple[list[ReferenceImage], dict[str, Any] | None]:
        """A new generation's references: every one read and checked first (a bad photo or video leaves nothing
        stored), then kept once by content; with a video, its motion notes and the stills they came from."""
        images = await self.normalised(uploads, image_urls)
        motion = await self.video_notes(video)
        references = [await asyncio.to_thread(self.keep, image, url) for image, url in images]
        if motion is None:
            return references, None
        stills = [await asyncio.to_thread(self.put_once, f"stills/{sha256(s)}.jpg", s) for s in motion[1]]
        return references, {"notes": motion[0].model_dump(mode="json"), "stills": stills}

    async def normalised(
        self, uploads: Sequence[UploadedImage], image_urls: Sequence[str]
    ) -> list[tuple[NormalisedImage, str | None]]:
        """Fetch (through the SSRF guard) and normalise every reference image; nothing is stored yet."""
        settings = self.settings
        image_urls = [without_credentials(url) for url in image_urls]  # nothing stores or shows a password
        fetched = await asyncio.gather(
            *(
                fetch_reference(
                    url,
                    allow_private=settings.allow_private_urls,
                    allowed_networks=settings.allowed_private_networks,
                    max_bytes=settings.max_image_bytes,
                    time_limit=settings.image_fetch_timeout,
                )
                for url in image_urls
            )
        )
        sources: list[tuple[bytes, str | None, str]] = [
            (upload.content, None, f"upload {index + 1} ({upload.filename or 'unnamed'})")
            for index, upload in enumerate(uploads)
        ]
        sources += [(content, url, f"image at {url[:60]}") for content, url in zip(fetched, image_urls, strict=True)]
        normalised = []
        for content, url, label in sources:
            if len(content) > settings.max_image_bytes:
                raise InputError(
                    f"{label} is larger than {settings.max_image_bytes // (1024 * 1024)} MB", field="images"
                )
            normalised.append((await asyncio.to_thread(normalise_image, content, label=label), url))
        return normalised

    async def video_notes(self, video: ReferenceVideo | None) -> tuple[VideoNotes, list[bytes]] | None:
        """The camera motion of a reference video (upload or URL), analysed now from a scratch copy, and a few
        stills from it for a vision model."""
        if video is None or (video.content is None and not video.url):
            return None
        settings = self.settings
        content = video.content
        if content is None:
            content = await fetch_reference(
                video.url or "",
                allow_private=settings.allow_private_urls,
                allowed_networks=settings.allowed_private_networks,
                max_bytes=MAX_REFERENCE_VIDEO_BYTES,
                time_limit=60.0,
                accept="video/*",
                field="video_reference_url",
            )
        if len(content) > MAX_REFERENCE_VIDEO_BYTES:
            raise InputError("the reference video is larger than 200 MB", field="video_reference")
        scratch = self.blobs.scratch_dir() / f"reference-{secrets.token_hex(8)}"
        try:
            await asyncio.to_thread(scratch.write_bytes, content)
            return await asyncio.to_thread(read_reference_video, scratch)
        finally:
            scratch.unlink(missing_ok=True)

    def put_once(self, key: str, content: bytes) -> str:
        """Store content under a key derived from its hash; the same bytes are stored once."""
        if not self.blobs.exists(key):
            self.blobs.put_bytes(key, content)
        return key

    def keep(self, image: NormalisedImage, source_url: str | None) -> ReferenceImage:
        key = self.put_once(f"images/{image.sha256}.{image.extension}", image.content)
        return ReferenceImage(image.sha256, image.mime_type, image.width, image.height, key, source_url)


async def analyse_files(
    settings: Settings, spec: GenerationSpec, images: Sequence[bytes], video: bytes | None = None
) -> tuple[Analysis, WrittenPrompt]:
    """Steps 1 and 2 for local files, with no server and no database (the CLI's `veo31 analyze`)."""
    check_image_count(len(images))
    normalised = [
        await asyncio.to_thread(normalise_image, content, label=f"image {index + 1}")
        for index, content in enumerate(images)
    ]
    motion = None
    if video is not None:
        with tempfile.TemporaryDirectory(prefix="veo31-analyze-") as folder:
            path = Path(folder) / "reference"
            await asyncio.to_thread(path.write_bytes, video)
            motion = await asyncio.to_thread(read_reference_video, path)
    analyser, writer = build_analyser(settings), build_prompt_writer(settings)
    try:
        return await describe(analyser, writer, spec, [image.content for image in normalised], motion)
    finally:
        await analyser.aclose()
        await writer.aclose()


async def describe(
    analyser: Analyser,
    writer: PromptWriter,
    spec: GenerationSpec,
    images: list[bytes],
    video: tuple[VideoNotes, list[bytes]] | None,
) -> tuple[Analysis, WrittenPrompt]:
    """Step 1 then step 2: analyse the (normalised) photos and a reference video's notes and stills, then write."""
    notes, stills = video if video is not None else (None, [])
    analysis = await analyser.analyse(images, product_name=spec.product_name, video=notes, video_frames=stills)
    return analysis, await writer.write(spec, image_count=len(images), analysis=analysis)


def check_image_count(count: int) -> int:
    if count > MAX_REFERENCE_IMAGES:
        raise InputError(f"at most {MAX_REFERENCE_IMAGES} reference images per generation, got {count}", field="images")
    return count


def create_request(
    spec: GenerationSpec, uploads: Sequence[UploadedImage], image_urls: Sequence[str], video: ReferenceVideo | None
) -> tuple[Any, ...]:
    """What a create request asked for, to bind its key to: the spec, each photo's hash, the URLs, the video."""
    video_part = None
    if video is not None:
        video_part = sha256(video.content) if video.content is not None else video.url
    return "create", spec.model_dump(mode="json"), [sha256(u.content) for u in uploads], list(image_urls), video_part


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
