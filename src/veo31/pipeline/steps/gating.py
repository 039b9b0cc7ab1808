"""The quality gate on a generation's stored video: its report (kept with the generation, the picture of its worst
frame beside the photo as a blob), and what `VEO31_QUALITY_GATE` makes of a video that fails — completed with the
report, held for a person's review, or tried once more with a new seed (paid, within the budget, at most
`VEO31_QUALITY_RETRIES` times), the attempt set aside with its video kept."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
from typing import Any

from dbos import DBOS

from veo31.config import QualityGate
from veo31.domain import Generation, Status
from veo31.errors import StorageError, Veo31Error
from veo31.pipeline.checks import check_file
from veo31.pipeline.costs import budget_problem, estimate_for
from veo31.pipeline.outcome import Outcome
from veo31.pipeline.runtime import Runtime, current
from veo31.pipeline.steps.common import load
from veo31.providers.registry import known
from veo31.quality.gate import CheckRequest
from veo31.quality.report import QualityReport

log = logging.getLogger("veo31.pipeline")

SETTLED_AS = {Status.COMPLETED: Outcome.COMPLETED, Status.NEEDS_REVIEW: Outcome.HELD}


@DBOS.step(
    retries_allowed=True,
    max_attempts=3,
    interval_seconds=2.0,
    should_retry=lambda e: isinstance(e, StorageError),
)
async def gate(generation_id: str, may_retry: bool = True, may_hold: bool = True) -> Outcome:
    """Check the stored video against the photos and apply the policy: 'completed', 'held' (needs review) or
    'retry' (the attempt is set aside; the workflow submits again — never from a late fetch: not `may_retry`).
    Without `may_hold` (an upgrade) the report is kept and the video completed whatever the policy. Run again
    after a crash, it checks again: the report is written with the decision, in one move."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status is not Status.CHECKING:  # decided before a crash that came before this step's checkpoint
        return SETTLED_AS.get(generation.status, Outcome.STOPPED)
    report, why_unchecked = await inspect(runtime, generation)
    fields = await keep_report(runtime, generation, report)
    policy = runtime.settings.quality_gate
    if report is not None and report.passed:
        passed = f"quality checks passed ({report.score:.2f})"
        await runtime.set_status(generation_id, Status.COMPLETED, passed, **fields)
        return Outcome.COMPLETED
    reasons = why_unchecked or failure_summary(report)
    if policy in (QualityGate.REPORT, QualityGate.OFF) or not may_hold:
        await runtime.set_status(generation_id, Status.COMPLETED, f"completed; quality: {reasons}", **fields)
        return Outcome.COMPLETED
    if policy is QualityGate.RETRY and report is not None and may_retry:
        refusal = await retry_refusal(runtime, generation)
        if refusal is None:
            await set_aside(runtime, generation, reasons, fields)
            return Outcome.RETRY
        reasons = f"{reasons}; {refusal}"
    await runtime.set_status(generation_id, Status.NEEDS_REVIEW, f"needs review: {reasons}", **fields)
    return Outcome.HELD


async def inspect(runtime: Runtime, generation: Generation) -> tuple[QualityReport | None, str | None]:
    """The report, or None with the reason when the video could not be checked (a person then decides under
    `hold`/`retry`: an unchecked video is no passed one)."""
    scratch = runtime.blobs.scratch_dir() / f"{generation.id}-gate.mp4"
    try:
        references = [
            await asyncio.to_thread(runtime.blobs.read_bytes, reference.blob_key) for reference in generation.references
        ]
        await asyncio.to_thread(runtime.blobs.get_file, generation.video_key or "", scratch)
        return await check_file(runtime.settings, scratch, references, asked_of(generation)), None
    except StorageError:
        raise  # transient: DBOS runs the step again
    except Veo31Error as error:
        log.warning("generation %s: the quality check could not run: %s", generation.id, error.message)
        return None, f"the quality check could not run ({error.message})"
    except Exception as error:  # a bug in a check must not cost the user a paid, stored video: logged, then said
        log.exception("generation %s: the quality check failed unexpectedly", generation.id)
        return None, f"the quality check could not run ({type(error).__name__}; the server log has the details)"
    finally:
        scratch.unlink(missing_ok=True)


def asked_of(generation: Generation) -> CheckRequest:
    """What the generation asked for, as the checks take it: the provider's frame rate, sound where it makes it."""
    spec, entry = generation.spec, known(generation.provider)
    caps = entry.capabilities if entry else None
    return CheckRequest(
        duration=spec.duration_seconds,
        resolution=spec.resolution,
        aspect=spec.aspect_ratio,
        fps=spec.fps or (caps.default_fps if caps else None),
        audio=caps.makes_audio if caps else None,
        mode=generation.mode if generation.mode in ("text", "first_frame", "first_last", "reference") else None,
    )


async def keep_report(runtime: Runtime, generation: Generation, report: QualityReport | None) -> dict[str, Any]:
    """The fields that store the report: the picture as a blob (a link in answers), the rest as JSON."""
    if report is None:
        return {"quality": None, "quality_frame_key": None}
    key = None
    if report.frame and report.frame.startswith("data:image/jpeg;base64,"):
        key = f"videos/{generation.id}-{len(generation.attempts) + 1}.quality.jpg"
        picture = base64.b64decode(report.frame.split(",", 1)[1])
        await asyncio.to_thread(runtime.blobs.put_bytes, key, picture)
    return {"quality": report.model_dump(mode="json", exclude={"frame"}), "quality_frame_key": key}


def failure_summary(report: QualityReport | None) -> str:
    failures = report.failures() if report else []
    if not failures:
        return "no check failed"
    more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
    return "; ".join(check.message for check in failures[:3]) + more


async def retry_refusal(runtime: Runtime, generation: Generation) -> str | None:
    """Why no new attempt is made (retries used up, or the budget would be passed), or None: one may be."""
    allowed = runtime.settings.quality_retries
    if len(generation.attempts) >= allowed:
        return f"no retry left ({len(generation.attempts) + 1} paid attempts, VEO31_QUALITY_RETRIES={allowed})"
    extra = estimate_for(runtime, generation.provider or "", generation.spec).usd
    over = await asyncio.to_thread(budget_problem, runtime, extra)
    return f"no retry: {over.message}" if over is not None else None


async def set_aside(runtime: Runtime, generation: Generation, reasons: str, fields: dict[str, Any]) -> None:
    """Keep this attempt (its video, report and cost) in `attempts`, and ready the generation for a new submission
    with a new seed: the same prompt, a new task; what the attempt cost stays counted."""
    cost = generation.cost_usd if generation.cost_usd is not None else (generation.cost_estimate_usd or 0.0)
    attempt = {
        "task_id": generation.provider_task_id,
        "seed": generation.spec.seed,
        "video_key": generation.video_key,
        "poster_key": generation.poster_key,
        "video": generation.video_info,
        "cost_usd": cost,
        "quality": fields["quality"],
        "quality_frame_key": fields["quality_frame_key"],
    }
    seed = secrets.randbelow(2**32)
    spec = generation.spec.model_copy(update={"seed": seed})
    estimate = estimate_for(runtime, generation.provider or "", spec)
    number, allowed = len(generation.attempts) + 2, runtime.settings.quality_retries + 1
    await runtime.set_status(
        generation.id,
        Status.PREPARING,
        f"quality: {reasons}; attempt {number} of {allowed} with seed {seed}",
        spec=spec.model_dump(mode="json"),
        attempts=[*generation.attempts, attempt],
        earlier_cost_usd=generation.earlier_cost_usd + cost,
        cost_usd=None,
        cost_estimate_usd=estimate.usd,
        cost_basis=estimate.basis,
        provider_task_id=None,
        submit_started_at=None,
        provider_video_url=None,
        deadline_at=None,
        quality=None,
        quality_frame_key=None,
    )
