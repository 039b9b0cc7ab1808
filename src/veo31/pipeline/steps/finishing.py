"""Making a deliverable: its source's stored video reframed and encoded for the preset in a media process, the
file read back whole, stored, and the deliverable completed — or failed with the reason. Run again after a crash,
it makes the file again (the work is deterministic; nothing is paid)."""

from __future__ import annotations

import asyncio
import functools

from dbos import DBOS

from veo31.domain import Generation, Status
from veo31.errors import StorageError, Veo31Error
from veo31.finishing.brand import BrandKit
from veo31.finishing.deliver import deliver_verified
from veo31.finishing.overlay import Branding
from veo31.finishing.presets import PRESETS, Container
from veo31.media import processes
from veo31.pipeline.outcome import Outcome
from veo31.pipeline.runtime import Runtime, current
from veo31.pipeline.steps.common import fail, load


@DBOS.step(
    retries_allowed=True,
    max_attempts=3,
    interval_seconds=2.0,
    should_retry=lambda e: isinstance(e, StorageError),
)
async def finish(generation_id: str) -> Outcome:
    runtime = current()
    deliverable = await load(runtime, generation_id)
    if deliverable.status.terminal:
        return Outcome.COMPLETED if deliverable.status is Status.COMPLETED else Outcome.STOPPED
    preset = PRESETS[deliverable.preset or ""]
    source = await load(runtime, deliverable.deliverable_of or "")
    await runtime.set_status(generation_id, Status.PREPARING, f"making the {preset.label} version")
    extension = preset.container.value
    scratch = runtime.blobs.scratch_dir()
    original, made = scratch / f"{generation_id}-source.mp4", scratch / f"{generation_id}.{extension}"
    try:
        await asyncio.to_thread(runtime.blobs.get_file, source.video_key or "", original)
        branding = await branding_of(runtime, deliverable, source)
        # The first photo shows the product as it is: what the framing looks for in the clip.
        photo = source.references[0].blob_key if source.references else None
        reference = await asyncio.to_thread(runtime.blobs.read_bytes, photo) if photo else None
        letterbox = bool((deliverable.branding or {}).get("letterbox"))
        render = functools.partial(deliver_verified, str(original), preset, str(made), reference, branding, letterbox)
        info = await processes.run(render)
        key = f"deliverables/{generation_id}.{extension}"
        await asyncio.to_thread(runtime.blobs.put_file, key, made)
    except StorageError:
        raise  # transient: DBOS runs the step again
    except Veo31Error as error:
        await fail(runtime, generation_id, error, stage=f"the {preset.label} version")
        return Outcome.FAILED
    finally:
        original.unlink(missing_ok=True)
        made.unlink(missing_ok=True)
    kind = "animated WebP" if preset.container is Container.WEBP else "MP4"
    detail = f"{info['width']}×{info['height']} {kind}, {info['duration']:.1f} s, {info['bytes'] / 1e6:.1f} MB"
    await runtime.set_status(generation_id, Status.COMPLETED, detail, video_key=key, video_info=info, cost_usd=0.0)
    return Outcome.COMPLETED


async def branding_of(runtime: Runtime, deliverable: Generation, source: Generation) -> Branding | None:
    """The kit the deliverable was asked with, as it was then (its settings, logo and music), the product's name, the
    price."""
    kept = deliverable.branding
    if not kept or "settings" not in kept:  # none, or only the framing (bars) asked for
        return None
    logo, music = [
        await asyncio.to_thread(runtime.blobs.read_bytes, kept[key]) if kept.get(key) else None
        for key in ("logo_key", "music_key")
    ]
    kit = BrandKit.model_validate(kept["settings"])
    return Branding(kit, logo, source.spec.product_name, kept.get("price"), music)
