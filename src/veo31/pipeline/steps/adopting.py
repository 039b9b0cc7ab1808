"""An uncertain submission: a task may exist but its id is unknown. Its callback may name it; it is adopted only
when the provider confirms it was made from our prompt — otherwise the generation fails saying what to check."""

from __future__ import annotations

import logging

from dbos import DBOS

from veo31.domain import Generation
from veo31.errors import (
    SubmissionUncertainError,
    Veo31Error,
)
from veo31.pipeline.runtime import Runtime, current
from veo31.pipeline.steps.common import callback_url, fail, load, record_task
from veo31.providers.registry import known

log = logging.getLogger("veo31.pipeline")


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
