"""The checkpointed steps of a generation. Each step's result is recorded by DBOS, so after a crash the
workflow resumes past the steps that finished — above all `submit`, which creates (and pays for) the provider
task at most once.

Steps catch the errors a person can act on (`Veo31Error`), record the generation as failed with that reason,
and return a value that tells the workflow to stop. Each step first re-reads the generation: one that was
canceled (or already ended) meanwhile is left alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
from datetime import timedelta
from typing import Any

from dbos import DBOS

from veo31.analysis.result import Analysis, VideoNotes
from veo31.domain import Generation, ProviderState, Status
from veo31.errors import (
    CapabilityError,
    InvalidMediaError,
    ProviderConnectionError,
    ResultExpiredError,
    StorageError,
    SubmissionUncertainError,
    Veo31Error,
)
from veo31.media import processes
from veo31.media.probe import probe_video
from veo31.pipeline.costs import (
    COST_FIELDS,
    budget_problem,
    estimate_for,
    final_cost,
    record_reported_cost,
    reported_cost,
)
from veo31.pipeline.outcome import WAIT, Outcome
from veo31.pipeline.runtime import Runtime, current
from veo31.providers.base import ImageInput, RefreshesLinks, SubmitRequest, Upgrades
from veo31.providers.registry import known, label_of, moves_on, next_provider
from veo31.store import generations as store
from veo31.store.tables import utcnow

log = logging.getLogger("veo31.pipeline")

MAX_VIDEO_BYTES = 1024 * 1024 * 1024


async def load(runtime: Runtime, generation_id: str) -> Generation:
    """The generation as a step needs it: without its history, which no step reads."""
    return await asyncio.to_thread(lambda: store.get_generation(runtime.engine, generation_id, history=False))


async def fail(runtime: Runtime, generation_id: str, error: Veo31Error, *, stage: str) -> None:
    await runtime.set_status(
        generation_id, Status.FAILED, f"{stage}: {error.message}", error_kind=error.kind, error_message=error.message
    )


@DBOS.step()
async def prepare(generation_id: str) -> bool:
    """Step 1 and 2: analyse the references, then write the prompt from the analysis — both skipped when the
    request brought its own prompt. False when the generation should not go on (the reason is recorded)."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal:
        return False
    return await _prepare(runtime, generation) is not None


async def _prepare(runtime: Runtime, generation: Generation) -> Generation | None:
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


UNCERTAIN = "?uncertain"


@DBOS.step()
async def submit(generation_id: str) -> str | None:
    """Create the provider task (paid) and record its id at once (see `_submit`)."""
    runtime = current()
    return await _submit(runtime, await load(runtime, generation_id), generating=False)


@DBOS.step()
async def begin(generation_id: str) -> list[Any] | str | None:
    """Prepare (unless done: a crash may come between) and submit, in one step, and begin the wait: `[task id,
    first wait, longest wait]`; UNCERTAIN or None as `_submit` answers.

    One step instead of three (prepare, submit, start waiting) saves four checkpoint transactions and two loads
    per generation (bench/pipeline.py). Redoing the preparation after a crash is safe: no task exists before the
    "maybe sent" marker, which `_submit` looks at first, and the prompt written is kept (never written twice
    once a submission may have used it)."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal:
        return None
    if generation.prompt is None and generation.submit_started_at is None and not generation.provider_task_id:
        prepared = await _prepare(runtime, generation)
        if prepared is None:
            return None
        generation = prepared
    elif generation.provider_task_id:  # recorded before a crash that came before this step's checkpoint
        await runtime.set_status(generation_id, Status.GENERATING)
    task_id = await _submit(runtime, generation, generating=True)
    if task_id is None or task_id == UNCERTAIN:
        return task_id
    return [task_id, *poll_schedule(runtime, generation.provider or "")]


async def _submit(runtime: Runtime, generation: Generation, *, generating: bool) -> str | None:
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
    store.update_fields(runtime.engine, generation_id, submit_started_at=utcnow())


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


async def record_task(
    runtime: Runtime,
    generation_id: str,
    provider: str,
    label: str,
    task_id: str,
    detail: str | None = None,
    *,
    generating: bool = False,
) -> None:
    deadline = utcnow() + timedelta(seconds=runtime.settings.generation_deadline_seconds)
    await runtime.record(
        generation_id,
        store.record_submission,
        provider=provider,
        task_id=task_id,
        detail=detail or f"{label} task {task_id}",
        deadline_at=deadline,
        generating=generating,
    )


@DBOS.step()
async def submit_upgrade(generation_id: str) -> str | None:
    """Ask the provider for the higher-resolution version of the generation this one upgrades; record the task
    to follow. No "maybe sent" marker: providers make an upgrade at most once per task (see `Provider.upgrade`),
    so after a crash this step is simply asked again."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal or not generation.provider or not generation.upgrade_of:
        return None
    if generation.provider_task_id:
        return generation.provider_task_id
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
        await fail(runtime, generation_id, error, stage=f"{provider.label} refused the {resolution} upgrade")
        return None
    detail = f"{provider.label} {resolution} upgrade of task {source.provider_task_id}"
    await record_task(runtime, generation_id, provider.name, provider.label, task.task_id, detail)
    return task.task_id


@DBOS.step()
async def can_adopt(generation_id: str) -> bool:
    """An uncertain submission can be resolved only if the provider was given our callback URL."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal:
        return False
    provider = runtime.provider(generation.provider or "")
    if callback_url(runtime, generation) is None or not provider.capabilities.callbacks:
        await fail_uncertain(runtime, generation)
        return False
    await runtime.note(
        generation_id,
        "the submission's outcome is unknown; waiting for the provider's callback "
        "to name the task (nothing is sent again)",
    )
    return True


@DBOS.step()
async def adopt(generation_id: str, task_id: str) -> bool:
    """Take the task a callback named as ours — only after the provider confirms it exists in our account and
    was made from our prompt."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal or generation.provider_task_id:
        return bool(generation.provider_task_id == task_id)
    provider = runtime.provider(generation.provider or "")
    try:
        status = await provider.status(task_id)
    except Veo31Error:
        return False
    sent_prompt = status.sent_prompt
    if sent_prompt is not None and generation.prompt and not sent_prompt.startswith(generation.prompt):
        log.warning("callback for %s named task %s made from another prompt; ignored", generation_id, task_id)
        return False
    await record_task(
        runtime,
        generation_id,
        provider.name,
        provider.label,
        task_id,
        f"{provider.label} task {task_id}, learnt from its callback",
    )
    return True


@DBOS.step()
async def give_up_adopting(generation_id: str) -> None:
    runtime = current()
    await fail_uncertain(runtime, await load(runtime, generation_id))


async def fail_uncertain(runtime: Runtime, generation: Generation) -> None:
    entry = known(generation.provider)
    label = entry.label if entry else "the provider"
    since = generation.submit_started_at.strftime("%Y-%m-%d %H:%M:%S UTC") if generation.submit_started_at else "?"
    where = entry.account_logs if entry else "the provider's logs"
    await fail(
        runtime,
        generation.id,
        SubmissionUncertainError(
            f"{label} may have created (and charged) a task for this generation, submitted at {since}, but never named "
            f"it; veo31 did not send it again. Check {where} before retrying",
            provider=generation.provider or "",
        ),
        stage="submission",
    )


def callback_url(runtime: Runtime, generation: Generation) -> str | None:
    """Where the provider may call back; only when a public URL is set (otherwise we poll)."""
    public = runtime.settings.public_url
    if not public or not generation.provider:
        return None
    return f"{public}/v1/callbacks/{generation.provider}/{generation.callback_token}"


@DBOS.step()
async def start_waiting(generation_id: str) -> list[float] | None:
    """Mark the generation generating; the poll schedule (first, longest wait) for its provider, or None if it
    ended meanwhile."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal:
        return None
    await runtime.set_status(generation_id, Status.GENERATING)
    return poll_schedule(runtime, generation.provider or "")


def poll_schedule(runtime: Runtime, provider: str) -> list[float]:
    """How long to wait for a callback before asking the provider: [first, longest] (the waits grow between)."""
    settings = runtime.settings
    hint = runtime.provider(provider).poll_seconds
    if hint is None:
        return [settings.first_poll_seconds, settings.max_poll_seconds]
    return [min(hint, settings.first_poll_seconds), min(hint, settings.max_poll_seconds)]


@DBOS.step()
async def check(generation_id: str, task_id: str, mind_deadline: bool = True, may_resubmit: bool = False) -> Outcome:
    """Ask the provider where the task stands: 'generating', 'succeeded', 'failed', 'stopped', 'overdue', or
    'resubmit' — a filter that often passes on a second try (Google's audio filter) blocked it, uncharged, and
    `may_resubmit` allows one more submission."""
    runtime = current()
    generation = await load(runtime, generation_id)
    state, found = await _check(runtime, generation, task_id, mind_deadline=mind_deadline, may_resubmit=may_resubmit)
    if state is Outcome.SUCCEEDED:
        # Retrieval starts from these, so it need not ask the provider again (an expired link gets a fresh one).
        await runtime.update(generation_id, **found)
    return state


RETRIEVE_POLICY: dict[str, Any] = dict(
    retries_allowed=True,
    max_attempts=WAIT.retrieve_attempts,
    interval_seconds=WAIT.retrieve_interval_seconds,
    should_retry=lambda error: isinstance(error, ProviderConnectionError | StorageError),
)


@DBOS.step(**RETRIEVE_POLICY)
async def look(generation_id: str, task_id: str, may_resubmit: bool = False) -> Outcome:
    """`check`, and when the task succeeded, `retrieve` in the same step: 'completed' or what `check` answers.

    One step instead of two saves two checkpoint transactions, a load and a write per generation. A transient
    failure of the download runs both again (DBOS's retries), which asks the provider once more: a read."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status is Status.COMPLETED:  # finished by an attempt whose checkpoint a crash lost
        return Outcome.COMPLETED
    state, found = await _check(runtime, generation, task_id, mind_deadline=True, may_resubmit=may_resubmit)
    if state is not Outcome.SUCCEEDED:
        return state
    return Outcome.COMPLETED if await _retrieve(runtime, generation, task_id, found) else Outcome.FAILED


async def _check(
    runtime: Runtime, generation: Generation, task_id: str, *, mind_deadline: bool, may_resubmit: bool
) -> tuple[Outcome, dict[str, Any]]:
    """Where the task stands (see `check`), and for a finished one the fields learnt: its link and reported cost."""
    generation_id = generation.id
    if generation.status.terminal:
        return Outcome.STOPPED, {}
    provider = runtime.provider(generation.provider or "")
    try:
        status = await provider.status(task_id)
    except Veo31Error as error:
        # A failed *check* is never the task's outcome: the task exists, is paid for, and may well finish (a key
        # rotated or a 402 blip while Kie generates). Only the provider's own task state ends it; until the
        # deadline the wait goes on, then the generation times out with its task kept (a late fetch recovers it).
        log.warning("status check for %s failed (%s), will ask again: %s", generation_id, error.kind, error.message)
        return _still_waiting_or_overdue(generation, mind_deadline), {}
    if status.state is ProviderState.SUCCEEDED:
        return Outcome.SUCCEEDED, {"provider_video_url": status.video_url, **reported_cost(status)}
    if status.state is ProviderState.FAILED and status.error is not None:
        uncharged = status.charged is False
        if may_resubmit and uncharged and status.retry_same:
            await runtime.note(generation_id, f"{status.error.message}; trying once more with the same prompt")
            await runtime.update(generation_id, provider_task_id=None, submit_started_at=None)
            return Outcome.RESUBMIT, {}
        if uncharged:
            await runtime.update(generation_id, cost_usd=0.0, cost_basis=f"not charged: {provider.label} made no video")
        await fail(runtime, generation_id, status.error, stage=f"{provider.label} generation")
        return Outcome.FAILED, {}
    return _still_waiting_or_overdue(generation, mind_deadline), {}


def _still_waiting_or_overdue(generation: Generation, mind_deadline: bool) -> Outcome:
    if mind_deadline and generation.deadline_at is not None and utcnow() >= generation.deadline_at:
        return Outcome.OVERDUE
    return Outcome.GENERATING


@DBOS.step()
async def fail_internal(generation_id: str, error_name: str) -> None:
    """The generation's workflow died of an unexpected error: fail it, pointing at the log (a status change only,
    no load: loading may be what failed)."""
    message = (
        f"veo31 stopped this generation after an unexpected error ({error_name}); the server log has the details "
        f"under 'generation {generation_id}' — please report it, then retry"
    )
    await current().set_status(
        generation_id, Status.FAILED, f"internal error: {error_name}", error_kind="internal", error_message=message
    )


@DBOS.step()
async def give_up_waiting(generation_id: str, task_id: str) -> None:
    runtime = current()
    minutes = runtime.settings.generation_deadline_seconds / 60
    await runtime.set_status(
        generation_id,
        Status.FAILED,
        f"no result within {minutes:g} min; task {task_id} is kept",
        error_kind="timed_out",
        error_message=f"the provider did not finish within {minutes:g} minutes; veo31 keeps task {task_id} and "
        "retrieves the video if it finishes later (or run `veo31 fetch`)",
    )


@DBOS.step(**RETRIEVE_POLICY)
async def retrieve(generation_id: str, task_id: str) -> bool:
    """Download the finished video, verify it by decoding it, write its poster, store both atomically."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status in (Status.COMPLETED, Status.CANCELED):
        return generation.status is Status.COMPLETED
    return await _retrieve(runtime, generation, task_id, {})


async def _retrieve(runtime: Runtime, generation: Generation, task_id: str, found: dict[str, Any]) -> bool:
    """Retrieve (see `retrieve`) from the link in `found` (what the finishing check learnt, written with the move
    to retrieving), else the one recorded, else a fresh status."""
    generation_id = generation.id
    found = {name: value for name, value in found.items() if value is not None}
    await runtime.set_status(generation_id, Status.RETRIEVING, **found)
    provider = runtime.provider(generation.provider or "")
    scratch = runtime.blobs.scratch_dir()
    video = scratch / f"{generation_id}.mp4"
    poster = scratch / f"{generation_id}.jpg"
    try:
        url = found.get("provider_video_url") or generation.provider_video_url
        if not url:
            url = (await provider.status(task_id)).video_url
        if not url:
            raise ResultExpiredError(f"{provider.label} reports no video for task {task_id}", provider=provider.name)
        size = await _download(runtime, provider, generation_id, url, video)
        info = await processes.run(functools.partial(probe_video, video, poster=poster))
        await asyncio.to_thread(runtime.blobs.put_file, f"videos/{generation_id}.mp4", video)
        await asyncio.to_thread(runtime.blobs.put_file, f"videos/{generation_id}.jpg", poster)
    except (ProviderConnectionError, StorageError):
        raise  # transient: DBOS runs this step again
    except InvalidMediaError as error:
        await fail(
            runtime,
            generation_id,
            InvalidMediaError(f"the provider's file is not a playable video: {error.message}"),
            stage="retrieval",
        )
        return False
    except Veo31Error as error:
        await fail(runtime, generation_id, error, stage="retrieval")
        return False
    finally:
        for leftover in (video, poster):
            if leftover.exists():
                os.unlink(leftover)
    video_info: dict[str, Any] = {
        "width": info.width,
        "height": info.height,
        "duration": round(info.duration, 3),
        "fps": info.fps,
        "codec": info.codec,
        "has_audio": info.has_audio,
        "bytes": size,
    }
    await runtime.set_status(
        generation_id,
        Status.COMPLETED,
        f"{info.width}×{info.height}, {info.duration:.1f} s",
        video_key=f"videos/{generation_id}.mp4",
        poster_key=f"videos/{generation_id}.jpg",
        video_info=video_info,
        provider_video_url=url,
        **({name: found[name] for name in COST_FIELDS if name in found} or final_cost(generation)),
    )
    return True


async def _download(runtime: Runtime, provider: Any, generation_id: str, url: str, target: Any) -> int:
    """Download; if the provider's link expired, ask it for a fresh one once before giving up."""
    try:
        return await provider.download(url, target, max_bytes=MAX_VIDEO_BYTES)
    except ResultExpiredError:
        fresh = await provider.fresh_url(url) if isinstance(provider, RefreshesLinks) else None
        if not fresh:
            raise ResultExpiredError(
                f"{provider.label}'s link expired and the video is gone; generate it again", provider=provider.name
            ) from None
        await runtime.note(generation_id, "the provider's link had expired; using a fresh one")
        return await provider.download(fresh, target, max_bytes=MAX_VIDEO_BYTES)
