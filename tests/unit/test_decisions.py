"""The pipeline's decisions without a server: what a status answer means for the wait (`check_now`), and when a
refused submission moves on to the next provider (`move_on`). A real Runtime and SQLite database; the providers
are scripted stand-ins for the remote services (their answers are what the test is about)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.unit.conftest import make_runtime
from veo31.domain import Capabilities, Cost, GenerationSpec, ProviderState, ProviderStatus, ProviderTask, Status
from veo31.errors import (
    AuthenticationError,
    ContentRejectedError,
    ProviderConnectionError,
    SubmissionUncertainError,
    UnavailableError,
)
from veo31.pipeline.outcome import Outcome
from veo31.pipeline.runtime import Runtime
from veo31.pipeline.steps.common import load
from veo31.pipeline.steps.submitting import move_on
from veo31.pipeline.steps.waiting import check_now
from veo31.providers.base import SubmitRequest
from veo31.providers.registry import entry
from veo31.store import changes, generations as store
from veo31.store.tables import utcnow


class Scripted:
    """A provider that answers `status` with what the test set (or raises it)."""

    poll_seconds = None

    def __init__(self, name: str, label: str, capabilities: Capabilities) -> None:
        self.name, self.label, self.capabilities = name, label, capabilities
        self.answer: ProviderStatus | Exception = ProviderStatus(ProviderState.GENERATING)

    async def submit(self, request: SubmitRequest) -> ProviderTask:
        return ProviderTask(self.name, "task-1")

    async def status(self, task_id: str) -> ProviderStatus:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def download(self, url: str, target: Path, *, max_bytes: int) -> int:
        raise AssertionError("no download in these tests")

    async def aclose(self) -> None:
        return None


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Runtime]:
    made = make_runtime(tmp_path, kie_api_key="k", gemini_api_key="g", fallback=True)
    for name in ("kie", "gemini", "local"):
        known = entry(name, made.settings)
        made.providers[name] = Scripted(name, known.label, known.capabilities)
    yield made
    made.engine.dispose()


def submitted(runtime: Runtime, *, provider: str = "kie", deadline_in: float = 600.0) -> str:
    generation, _ = store.create_generation(
        runtime.engine, spec=GenerationSpec(), references=[], provider=provider, mode="text", cost_estimate_usd=0.84
    )
    changes.record_submission(
        runtime.engine,
        generation.id,
        provider=provider,
        task_id="task-1",
        detail="task-1",
        deadline_at=utcnow() + timedelta(seconds=deadline_in),
        generating=True,
    )
    return generation.id


def answer(runtime: Runtime, value: ProviderStatus | Exception, provider: str = "kie") -> None:
    scripted = runtime.providers[provider]
    assert isinstance(scripted, Scripted)
    scripted.answer = value


async def checked(runtime: Runtime, generation_id: str, *, may_resubmit: bool = False) -> tuple[Outcome, dict]:
    generation = await load(runtime, generation_id)
    return await check_now(runtime, generation, "task-1", mind_deadline=True, may_resubmit=may_resubmit)


async def test_a_finished_task_brings_its_link_and_reported_cost(world: Runtime) -> None:
    generation_id = submitted(world)
    reported = Cost(0.84, "Kie.ai reported 168 credits")
    answer(world, ProviderStatus(ProviderState.SUCCEEDED, video_urls=("https://x/v.mp4",), reported_cost=reported))
    outcome, found = await checked(world, generation_id)
    assert outcome is Outcome.SUCCEEDED
    assert found == {"provider_video_url": "https://x/v.mp4", "cost_usd": 0.84, "cost_basis": reported.basis}


async def test_a_failed_check_never_ends_the_task_until_its_deadline(world: Runtime) -> None:
    generation_id = submitted(world)
    answer(world, AuthenticationError("key rotated", provider="kie"))
    assert (await checked(world, generation_id))[0] is Outcome.GENERATING
    late = submitted(world, deadline_in=-1)
    answer(world, ProviderConnectionError("down", provider="kie"))
    assert (await checked(world, late))[0] is Outcome.OVERDUE
    assert (await load(world, late)).status is Status.GENERATING, "overdue is the workflow's to act on, not the check's"


async def test_an_uncharged_passing_failure_is_sent_once_more(world: Runtime) -> None:
    generation_id = submitted(world)
    rejected = ContentRejectedError("audio filter", provider="kie")
    answer(world, ProviderStatus(ProviderState.FAILED, error=rejected, charged=False, retry_same=True))
    assert (await checked(world, generation_id, may_resubmit=True))[0] is Outcome.RESUBMIT
    generation = await load(world, generation_id)
    assert generation.provider_task_id is None and generation.submit_started_at is None


async def test_a_failure_ends_it_and_an_uncharged_one_costs_nothing(world: Runtime) -> None:
    generation_id = submitted(world)
    rejected = ContentRejectedError("refused", provider="kie")
    answer(world, ProviderStatus(ProviderState.FAILED, error=rejected, charged=False, retry_same=True))
    assert (await checked(world, generation_id))[0] is Outcome.FAILED, "the second time, it is the outcome"
    generation = await load(world, generation_id)
    assert generation.status is Status.FAILED and generation.error_kind == rejected.kind
    assert generation.cost_usd == 0.0 and "not charged" in (generation.cost_basis or "")


async def test_a_generation_that_ended_meanwhile_is_left_alone(world: Runtime) -> None:
    generation_id = submitted(world)
    changes.record_status(world.engine, generation_id, Status.CANCELED, "canceled")
    answer(world, ProviderStatus(ProviderState.SUCCEEDED, video_urls=("https://x/v.mp4",)))
    assert (await checked(world, generation_id))[0] is Outcome.STOPPED


def queued(runtime: Runtime, spec: GenerationSpec) -> str:
    generation, _ = store.create_generation(
        runtime.engine, spec=spec, references=[], provider="kie", mode="text", cost_estimate_usd=0.84
    )
    return generation.id


async def test_auto_moves_on_after_a_refusal_before_any_task(world: Runtime) -> None:
    generation_id = queued(world, GenerationSpec(mode="text"))
    moved = await move_on(world, await load(world, generation_id), AuthenticationError("bad key", provider="kie"))
    assert moved is not None and moved.provider == "gemini", "local cannot make text: Google is next"
    assert moved.cost_estimate_usd == pytest.approx(0.8) and moved.submit_started_at is None
    notes = [change.detail for change in store.get_generation(world.engine, generation_id).history]
    assert any("Kie.ai left before any task" in (note or "") and "trying Google" in (note or "") for note in notes)


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (GenerationSpec(provider="kie"), AuthenticationError("bad key", provider="kie")),  # named: never swapped
        (GenerationSpec(), SubmissionUncertainError("maybe sent", provider="kie")),  # a task may exist
        (GenerationSpec(), UnavailableError("down", provider="kie", task_may_exist=True)),
        (GenerationSpec(), ContentRejectedError("refused", provider="kie")),  # another provider would refuse too
    ],
)
async def test_no_move_when_a_task_may_exist_or_the_person_chose(
    world: Runtime, spec: GenerationSpec, error: Exception
) -> None:
    generation_id = queued(world, spec)
    assert await move_on(world, await load(world, generation_id), error) is None  # type: ignore[arg-type]
    assert (await load(world, generation_id)).provider == "kie"


async def test_no_move_without_fallback(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, kie_api_key="k", gemini_api_key="g")
    runtime.providers["gemini"] = Scripted("gemini", "Google", entry("gemini", runtime.settings).capabilities)
    generation_id = queued(runtime, GenerationSpec())
    error = AuthenticationError("bad key", provider="kie")
    assert await move_on(runtime, await load(runtime, generation_id), error) is None
    runtime.engine.dispose()
