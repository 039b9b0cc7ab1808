"""Creating the provider task, paid at most once: the "maybe sent" marker, the move to the next provider when one
refused before any task could exist, and an upgrade's task."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from dbos import DBOS

from veo31.domain import Generation, Status
from veo31.errors import (
    CapabilityError,
    SubmissionUncertainError,
    Veo31Error,
)
from veo31.pipeline.costs import (
    budget_problem,
    estimate_for,
    record_reported_cost,
)
from veo31.pipeline.runtime import Runtime, current
from veo31.pipeline.steps.common import callback_url, fail, load, poll_schedule, record_task
from veo31.pipeline.steps.preparing import prepare_now
from veo31.providers.base import ImageInput, SubmitRequest, Upgrades
from veo31.providers.registry import label_of, moves_on, next_provider
from veo31.store import changes
from veo31.store.tables import utcnow

UNCERTAIN = "?uncertain"


@DBOS.step()
async def submit(generation_id: str) -> str | None:
    """Create the provider task (paid) and record its id at once (see `submit_now`)."""
    runtime = current()
    return await submit_now(runtime, await load(runtime, generation_id), generating=False)


@DBOS.step()
async def begin(generation_id: str) -> list[Any] | str | None:
    """Prepare (unless done: a crash may come between) and submit, in one step, and begin the wait: `[task id,
    first wait, longest wait]`; UNCERTAIN or None as `submit_now` answers.

    One step instead of three (prepare, submit, start waiting) saves four checkpoint transactions and two loads
    per generation (bench/pipeline.py). Redoing the preparation after a crash is safe: no task exists before the
    "maybe sent" marker, which `submit_now` looks at first, and the prompt written is kept (never written twice
    once a submission may have used it)."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal:
        return None
    if generation.prompt is None and generation.submit_started_at is None and not generation.provider_task_id:
        prepared = await prepare_now(runtime, generation)
        if prepared is None:
            return None
        generation = prepared
    elif generation.provider_task_id:  # recorded before a crash that came before this step's checkpoint
        await runtime.set_status(generation_id, Status.GENERATING)
    task_id = await submit_now(runtime, generation, generating=True)
    if task_id is None or task_id == UNCERTAIN:
        return task_id
    return [task_id, *poll_schedule(runtime, generation.provider or "")]


async def submit_now(runtime: Runtime, generation: Generation, *, generating: bool) -> str | None:
    """Create the provider task (paid) and record its id at once (with `generating`, the wait begins in the same
    transaction).

    Returns the task id; None when the submission failed (the reason is recorded); UNCERTAIN when a task may
    exist but its id is unknown — a request that was sent and never answered, or a process that died while
    submitting (the marker written before sending says so). Then nothing is sent again: the workflow waits for
    the task's callback to name it, or fails saying what to check.

    With fallback, an `auto` generation that a provider refused before any task could exist moves to the next
    provider (the history says which was left and why) and is submitted there, in this same step.
    """
    generation_id = generation.id
    if generation.status.terminal or not generation.provider:
        return None
    if generation.provider_task_id:
        return generation.provider_task_id  # recorded before a crash that came before this step's checkpoint
    if generation.submit_started_at is not None:
        return UNCERTAIN
    while True:
        provider = runtime.provider(generation.provider or "")
        over = await asyncio.to_thread(budget_problem, runtime, None)
        if over is not None:
            await fail(runtime, generation_id, over, stage="budget")
            return None
        request = dataclasses.replace(
            await submit_request(runtime, generation), before_send=lambda: mark_submitting(runtime, generation_id)
        )
        try:
            task = await provider.submit(request)
        except SubmissionUncertainError as error:
            await runtime.note(generation_id, error.message)
            return UNCERTAIN
        except Veo31Error as error:
            moved = await move_on(runtime, generation, error)
            if moved is None:
                await fail(runtime, generation_id, error, stage=f"{provider.label} refused the submission")
                return None
            generation = moved
            continue
        await record_task(runtime, generation_id, provider.name, provider.label, task.task_id, generating=generating)
        await record_reported_cost(runtime, provider, generation_id, task.task_id)
        return task.task_id


async def move_on(runtime: Runtime, generation: Generation, error: Veo31Error) -> Generation | None:
    """The generation moved to the next provider after this refusal, or None when it stays (and fails)."""
    settings = runtime.settings
    if generation.spec.provider != "auto" or not settings.fallback or not moves_on(error):
        return None
    spec, count = generation.spec, len(generation.references)
    nxt = next_provider(spec, count, generation.provider or "", settings)
    if nxt is None or nxt.provider not in runtime.providers:
        return None
    left, label = label_of(generation.provider) or "the provider", label_of(nxt.provider)
    cost = estimate_for(runtime, nxt.provider, spec)
    # No task exists at the provider that refused, so its "maybe sent" marker is cleared with the move.
    await runtime.update(
        generation.id,
        provider=nxt.provider,
        mode=nxt.mode,
        submit_started_at=None,
        cost_estimate_usd=cost.usd,
        cost_basis=cost.basis,
    )
    await runtime.note(generation.id, f"{left} left before any task ({error.kind}: {error.message}); trying {label}")
    return await load(runtime, generation.id)


def mark_submitting(runtime: Runtime, generation_id: str) -> None:
    """The durable "maybe sent" marker, written synchronously while the provider still lacks the paid request's
    last byte (Kie, the Gemini API; Vertex AI, whose SDK sends a request whole: just before the call). A crash
    before it left no task, so the step simply runs again; a crash after it and before the task id is recorded is
    the only moment a task's existence is unknown."""
    # On the event loop, on purpose: awaiting it in a thread let the loop take milliseconds to come back to the
    # last byte under load, and a kill in that gap leaves a submission undecidable (tests/integration/test_crash.py).
    changes.update_fields(runtime.engine, generation_id, submit_started_at=utcnow())


async def submit_request(runtime: Runtime, generation: Generation) -> SubmitRequest:
    images = []
    for reference in generation.references:
        content = await asyncio.to_thread(runtime.blobs.read_bytes, reference.blob_key)
        images.append(ImageInput(content, reference.mime_type, reference.source_url))
    return SubmitRequest(
        prompt=generation.prompt or "",
        negative_prompt=generation.negative_prompt,
        mode=generation.mode or "text",
        model_tier=generation.spec.model_tier,
        duration_seconds=generation.spec.duration_seconds,
        aspect_ratio=generation.spec.aspect_ratio,
        resolution=generation.spec.resolution,
        seed=generation.spec.seed,
        images=tuple(images),
        callback_url=callback_url(runtime, generation),
        use_case=generation.spec.use_case,
        product_name=generation.spec.product_name,
        fps=generation.spec.fps,
    )


@DBOS.step()
async def submit_upgrade(generation_id: str) -> str | None:
    """Ask the provider for the higher-resolution version of the generation this one upgrades; record the task
    to follow (the first upgrade shape's step; `begin_upgrade` is today's). No "maybe sent" marker: providers make
    an upgrade at most once per task (see `Upgrades`), so after a crash this step is simply asked again."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal or not generation.provider or not generation.upgrade_of:
        return None
    if generation.provider_task_id:
        return generation.provider_task_id
    return await upgrade_now(runtime, generation, generating=False)


@DBOS.step()
async def begin_upgrade(generation_id: str) -> list[Any] | None:
    """Ask for the upgrade and begin the wait, in one step: `[task id, first wait, longest wait]`, or None when it
    failed or ended (the reason is recorded)."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal or not generation.provider or not generation.upgrade_of:
        return None
    task_id = generation.provider_task_id
    if task_id:  # recorded before a crash that came before this step's checkpoint
        await runtime.set_status(generation_id, Status.GENERATING)
    else:
        task_id = await upgrade_now(runtime, generation, generating=True)
        if task_id is None:
            return None
    return [task_id, *poll_schedule(runtime, generation.provider)]


async def upgrade_now(runtime: Runtime, generation: Generation, *, generating: bool) -> str | None:
    """Start the upgrade at the provider and record its task (with `generating`, the wait begins in the same
    transaction); None when the provider refused (the reason is recorded)."""
    assert generation.provider and generation.upgrade_of
    source = await load(runtime, generation.upgrade_of)
    provider = runtime.provider(generation.provider)
    resolution = generation.spec.resolution
    try:
        if not isinstance(provider, Upgrades):
            raise CapabilityError(
                f"{provider.label} has no upgrades: generate again at {resolution}", field="resolution"
            )
        task = await provider.upgrade(
            source.provider_task_id or "", resolution, callback_url=callback_url(runtime, generation)
        )
    except Veo31Error as error:
        await fail(runtime, generation.id, error, stage=f"{provider.label} refused the {resolution} upgrade")
        return None
    detail = f"{provider.label} {resolution} upgrade of task {source.provider_task_id}"
    await record_task(
        runtime, generation.id, provider.name, provider.label, task.task_id, detail, generating=generating
    )
    return task.task_id
