"""Steps 1 and 2 of a generation: analyse its references, then write its prompt."""

from __future__ import annotations

import asyncio
import dataclasses

from dbos import DBOS

from veo31.analysis.result import Analysis, VideoNotes
from veo31.domain import Generation, Status
from veo31.errors import (
    Veo31Error,
)
from veo31.pipeline.runtime import Runtime, current
from veo31.pipeline.steps.common import fail, load


@DBOS.step()
async def prepare(generation_id: str) -> bool:
    """Step 1 and 2: analyse the references, then write the prompt from the analysis — both skipped when the
    request brought its own prompt. False when the generation should not go on (the reason is recorded)."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal:
        return False
    return await prepare_now(runtime, generation) is not None


async def prepare_now(runtime: Runtime, generation: Generation) -> Generation | None:
    """The generation with its prompt written (as stored), or None when it failed (the reason is recorded)."""
    await runtime.set_status(generation.id, Status.PREPARING)
    analysis = None
    if not generation.spec.prompt:
        try:
            analysis = await analyse_references(runtime, generation)
        except Veo31Error as error:
            await fail(runtime, generation.id, error, stage="reference analysis")
            return None
    written = await runtime.writer.write(generation.spec, image_count=len(generation.references), analysis=analysis)
    await runtime.update(
        generation.id,
        analysis=analysis.model_dump(mode="json") if analysis else None,
        prompt=written.prompt,
        negative_prompt=written.negative_prompt,
        prompt_writer=written.writer,
    )
    return dataclasses.replace(
        generation,
        status=Status.PREPARING,
        prompt=written.prompt,
        negative_prompt=written.negative_prompt,
        prompt_writer=written.writer,
    )


async def analyse_references(runtime: Runtime, generation: Generation) -> Analysis:
    """The photos' analysis, merged with the reference video's motion (analysed when the request came in)."""
    images = [await asyncio.to_thread(runtime.blobs.read_bytes, ref.blob_key) for ref in generation.references]
    seed = generation.reference_video or {}
    video = VideoNotes.model_validate(seed["notes"]) if seed.get("notes") else None
    stills = [await asyncio.to_thread(runtime.blobs.read_bytes, key) for key in seed.get("stills", [])]
    return await runtime.analyser.analyse(
        images, product_name=generation.spec.product_name, video=video, video_frames=stills
    )
