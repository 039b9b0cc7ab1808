"""What a generation costs, worked out in one place: the estimate before submitting (from the price settings),
the budget cap, the cost a provider reports, and the final figure a finished video keeps."""

from __future__ import annotations

import logging
from typing import Any

from veo31.domain import Cost, Generation, GenerationSpec, ProviderStatus
from veo31.errors import BudgetExceededError, Veo31Error
from veo31.pipeline.runtime import Runtime
from veo31.providers.base import Provider, ReportsCost
from veo31.providers.registry import estimate
from veo31.store import listing

log = logging.getLogger("veo31.pipeline")


def estimate_for(runtime: Runtime, provider: str, spec: GenerationSpec) -> Cost:
    """What a generation like `spec` would cost at `provider`, at list price."""
    return estimate(provider, spec, runtime.settings)


async def record_reported_cost(runtime: Runtime, provider: Provider, generation_id: str, task_id: str) -> None:
    """The provider's own figure for what the submission cost, when it gives one (never blocks the submission)."""
    if not isinstance(provider, ReportsCost):
        return  # the estimate stands (at list price once the video exists)
    try:
        reported = await provider.reported_cost(task_id)
    except Veo31Error as error:
        log.info("no reported cost for %s: %s", generation_id, error.message)
        return
    if reported is not None:
        await runtime.update(generation_id, cost_usd=reported.usd, cost_basis=reported.basis)


def budget_problem(runtime: Runtime, extra_usd: float | None) -> BudgetExceededError | None:
    """The refusal when spending (with `extra_usd` more) would pass VEO31_BUDGET_LIMIT; None when within it."""
    limit = runtime.settings.budget_limit
    if limit is None:
        return None
    spent = listing.spend_usd(runtime.engine)
    total = spent + (extra_usd or 0.0)
    if total <= limit + 1e-9:
        return None
    more = f" and this one would cost ${extra_usd:.2f}" if extra_usd else ""
    return BudgetExceededError(
        f"the spend cap VEO31_BUDGET_LIMIT=${limit:.2f} would be passed: ${spent:.2f} is spent or committed{more}; "
        "raise the cap, or use the local renderer (free)",
        field="provider",
    )


COST_FIELDS = ("cost_usd", "cost_basis")


def reported_cost(status: ProviderStatus) -> dict[str, Any]:
    """The cost the provider reported with the finished task (Kie's creditsConsumed); nothing when it reports none."""
    if status.reported_cost is None:
        return {}
    return {"cost_usd": status.reported_cost.usd, "cost_basis": status.reported_cost.basis}


def final_cost(generation: Generation) -> dict[str, Any]:
    """The cost of a finished video: what the provider reported when it finished (recorded by the check), else what
    was measured at submission, else the estimate at list price (Google reports no cost; it bills the list price)."""
    if generation.cost_usd is not None:
        return {}
    if generation.cost_estimate_usd is None:
        return {}
    return {"cost_usd": generation.cost_estimate_usd, "cost_basis": f"at list price: {generation.cost_basis}"}
