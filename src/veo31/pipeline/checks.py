"""A clip checked on request (`POST /v1/checks`), storing nothing: copied to a scratch file, checked in a media
process (the API's own process only waits), and the scratch file removed whatever happens."""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from veo31.config import Settings
from veo31.errors import InputError
from veo31.media import processes
from veo31.quality.gate import MAX_VIDEO_BYTES, CheckRequest, check_references, check_video, limits_from
from veo31.quality.judge import judge, sample_frames
from veo31.quality.report import QualityReport
from veo31.store.blobs import BlobStore


async def check_upload(
    settings: Settings, blobs: BlobStore, video: BinaryIO, images: Sequence[bytes], request: CheckRequest
) -> QualityReport:
    references = await asyncio.to_thread(check_references, images)  # no photo, or one that is none: refused first
    scratch = blobs.scratch_dir() / f"check-{secrets.token_hex(8)}.mp4"
    try:
        await asyncio.to_thread(_copy_capped, video, scratch)
        return await check_file(settings, scratch, references, request)
    finally:
        scratch.unlink(missing_ok=True)


async def check_file(
    settings: Settings, path: Path, references: Sequence[bytes], request: CheckRequest
) -> QualityReport:
    """The report on the clip at `path` against its (normalised) photos, made in a media process — a request's
    upload, or a generation's stored video (the gate step) — with a vision model's verdict when one is set."""
    limits = limits_from(settings.quality_thresholds)
    report = await processes.run(functools.partial(check_video, str(path), request, references, limits))
    if settings.llm_base_url:  # a vision model is configured: its verdict, beside the local checks
        frames = await processes.run(functools.partial(sample_frames, str(path)))
        report = report.with_check(await judge(settings, references, frames))
    return report


def _copy_capped(source: BinaryIO, target: Path) -> None:
    """Copy the upload, stopping as soon as it passes the cap (nothing more of a huge file is written)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(1024 * 1024):
            written += len(chunk)
            if written > MAX_VIDEO_BYTES:
                raise InputError(f"the video is larger than {MAX_VIDEO_BYTES // (1024 * 1024)} MB", field="video")
            out.write(chunk)
    if written == 0:
        raise InputError("the video is empty", field="video")
