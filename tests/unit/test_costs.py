"""The pipeline's cost decisions, without a server: a real Runtime on a SQLite file of its own (no provider is
called), and generations stored the way the pipeline stores them."""

from __future__ import annotations

import dataclasses

import pytest

from veo31.domain import Cost, GenerationSpec, ProviderState, ProviderStatus, Status
from veo31.errors import BudgetExceededError
from veo31.pipeline.costs import budget_problem, estimate_for, final_cost, reported_cost
from veo31.pipeline.runtime import Runtime
from veo31.store import changes, generations as store


def stored(runtime: Runtime, *, estimate: float | None, status: Status = Status.QUEUED) -> None:
    generation, _ = store.create_generation(
        runtime.engine, spec=GenerationSpec(), references=[], provider="kie", mode="text", cost_estimate_usd=estimate
    )
    if status is not Status.QUEUED:
        changes.record_status(runtime.engine, generation.id, status)


def test_the_estimate_is_the_price_settings(runtime: Runtime) -> None:
    cost = estimate_for(runtime, "kie", GenerationSpec(model_tier="fast", duration_seconds=8))
    assert cost.usd == pytest.approx(0.84)  # 168 Kie.ai credits × $0.005
    assert estimate_for(runtime, "local", GenerationSpec()).usd == 0.0


def test_the_budget_counts_what_is_spent_or_committed(runtime: Runtime) -> None:
    assert budget_problem(runtime, 0.9) is None
    stored(runtime, estimate=0.84)  # in flight: committed at its estimate
    refused = budget_problem(runtime, 0.84)
    assert isinstance(refused, BudgetExceededError)
    assert "VEO31_BUDGET_LIMIT=$1.00" in refused.message and "$0.84 is spent or committed" in refused.message
    assert budget_problem(runtime, 0.16) is None, "up to the cap exactly is allowed"


def test_a_generation_that_ended_before_any_task_costs_nothing(runtime: Runtime) -> None:
    stored(runtime, estimate=0.84, status=Status.FAILED)
    assert budget_problem(runtime, 1.0) is None


def test_the_reported_cost_is_what_the_provider_said_it_cost() -> None:
    status = ProviderStatus(ProviderState.SUCCEEDED, reported_cost=Cost(0.84, "Kie.ai reported 168 credits"))
    assert reported_cost(status) == {"cost_usd": 0.84, "cost_basis": "Kie.ai reported 168 credits"}
    assert reported_cost(ProviderStatus(ProviderState.SUCCEEDED)) == {}


def test_the_final_cost_keeps_a_reported_figure_else_the_list_price(runtime: Runtime) -> None:
    generation, _ = store.create_generation(
        runtime.engine,
        spec=GenerationSpec(),
        references=[],
        provider="gemini",
        mode="text",
        cost_estimate_usd=0.8,
        cost_basis="8 s × $0.10",
    )
    assert final_cost(generation) == {"cost_usd": 0.8, "cost_basis": "at list price: 8 s × $0.10"}
    assert final_cost(dataclasses.replace(generation, cost_usd=0.5)) == {}
    assert final_cost(dataclasses.replace(generation, cost_estimate_usd=None)) == {}
