"""The only door to generations: the HTTP API, the page and the CLI all come through here, so they cannot drift.

Creating a generation checks the request against the provider's capabilities and takes the reference images
through intake *before* anything is stored or submitted; a bad request costs nothing and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from dbos import DBOS

from veo31.analysis.result import Analysis
from veo31.config import Settings
from veo31.domain import Cost, Generation, GenerationSpec, ProviderStatus, Status
from veo31.errors import ConflictError, NotFoundError
from veo31.pipeline import callbacks, checks, deliverables, untracked, watching
from veo31.pipeline.batches import Batches
from veo31.pipeline.brand_kits import BrandKits
from veo31.pipeline.costs import budget_problem, estimate_for
from veo31.pipeline.deliverables import Finish
from veo31.pipeline.health import readiness
from veo31.pipeline.intake import (
    ReferenceIntake,
    ReferenceVideo,
    UploadedImage,
    check_image_count,
    create_request,
    describe,
)
from veo31.pipeline.launch import enqueue, start_fetch
from veo31.pipeline.reads import GenerationReads
from veo31.pipeline.review import Verdict, review
from veo31.pipeline.runtime import Runtime, current
from veo31.pipeline.upgrades import check_upgradable, create_upgrade, live_rendition, renditions_at, source_of
from veo31.pipeline.webhooks import Webhooks
from veo31.pipeline.workflow import WAKE
from veo31.prompts.templates import WrittenPrompt
from veo31.providers.registry import ProviderInfo, Route, provider_overview, route
from veo31.quality.gate import CheckRequest
from veo31.quality.report import QualityReport
from veo31.store import generations as store, request_keys
from veo31.store.blobs import BlobStore

log = logging.getLogger("veo31.service")


@dataclass(frozen=True)
class Created:
    generation: Generation
    created: bool


class GenerationService(GenerationReads):
    def __init__(self, runtime: Runtime | None = None) -> None:
        self._runtime = runtime

    @property
    def _intake(self) -> ReferenceIntake:
        return ReferenceIntake(self.runtime.settings, self.runtime.blobs)

    @property
    def runtime(self) -> Runtime:
        return self._runtime or current()

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def blobs(self) -> BlobStore:
        """Where the videos and posters are kept (the API streams them with Range from here)."""
        return self.runtime.blobs

    def offers(self, provider: str) -> bool:
        """Whether `provider` is configured in this process."""
        return provider in self.runtime.providers

    # -- create -------------------------------------------------------------------------------------------------

    async def create(
        self,
        spec: GenerationSpec,
        *,
        uploads: Sequence[UploadedImage] = (),
        image_urls: Sequence[str] = (),
        idempotency_key: str | None = None,
        parent_id: str | None = None,
        video: ReferenceVideo | None = None,
        warnings: Sequence[str] = (),
    ) -> Created:
        """Check, take in the images, store, and start one generation. A used idempotency key returns its one.
        `warnings` are kept with it (what a caller changed in the request on the way)."""
        runtime = self.runtime
        keyed = None
        if idempotency_key:  # hashing the photos only when there is a key to bind them to
            keyed = request_keys.keyed(idempotency_key, *create_request(spec, uploads, image_urls, video))
            existing = await asyncio.to_thread(store.find_keyed, runtime.engine, keyed)
            if existing is not None:
                return Created(existing, False)
        chosen, cost = await self._priced(spec, check_image_count(len(uploads) + len(image_urls)))
        references, reference_video = await self._intake.take_in(uploads, image_urls, video)
        return await self._store_and_start(
            chosen,
            cost,
            spec=spec,
            references=references,
            request_key=keyed,
            parent_id=parent_id,
            warnings=warnings,
            reference_video=reference_video,
        )

    async def _priced(self, spec: GenerationSpec, image_count: int) -> tuple[Route, Cost]:
        """Where a new generation goes and its estimate — refused here when it would pass the budget."""
        chosen = route(spec, image_count, self.runtime.settings)
        cost = self.estimate(chosen.provider, spec)
        over = await asyncio.to_thread(budget_problem, self.runtime, cost.usd)
        if over is not None:
            raise over
        return chosen, cost

    async def _store_and_start(self, chosen: Route, cost: Cost, **fields: Any) -> Created:
        """Store a new generation (or find the one its key already made) and start its workflow once."""
        runtime = self.runtime
        generation, is_new = await asyncio.to_thread(
            store.create_generation,
            runtime.engine,
            provider=chosen.provider,
            mode=chosen.mode,
            cost_estimate_usd=cost.usd,
            cost_basis=cost.basis,
            notes=chosen.notes,
            **fields,
        )
        if is_new:
            await enqueue(runtime, generation)
        return Created(generation, is_new)

    def estimate(self, provider: str, spec: GenerationSpec) -> Cost:
        return estimate_for(self.runtime, provider, spec)

    async def quote(self, spec: GenerationSpec, image_count: int) -> tuple[Route, Cost, float | None]:
        """Where a generation like this would go, what it would cost, and what is left of the budget."""
        chosen = route(spec, check_image_count(image_count), self.runtime.settings)
        limit = self.runtime.settings.budget_limit
        left = None if limit is None else round(limit - await self.total_cost(), 4)
        return chosen, self.estimate(chosen.provider, spec), left

    async def analyse(
        self,
        spec: GenerationSpec,
        *,
        uploads: Sequence[UploadedImage] = (),
        image_urls: Sequence[str] = (),
        video: ReferenceVideo | None = None,
    ) -> tuple[Analysis, WrittenPrompt]:
        """Steps 1 and 2 alone: what the references show, and the prompt written from it — to edit before
        generating. Nothing is stored."""
        check_image_count(len(uploads) + len(image_urls))
        intake = self._intake
        images = await intake.normalised(uploads, image_urls)
        motion = await intake.video_notes(video)
        runtime = self.runtime
        return await describe(runtime.analyser, runtime.writer, spec, [image.content for image, _ in images], motion)

    async def provider_status(self, provider: str, task_id: str) -> ProviderStatus:
        """Ask a provider directly about a task veo31 does not track (the old status routes allow this)."""
        return await untracked.provider_status(self.runtime, provider, task_id)

    def providers(self) -> list[ProviderInfo]:
        return provider_overview(self.runtime.settings)

    async def download_task(self, provider: str, task_id: str, target: Path) -> dict[str, Any]:
        """Download and verify the video of a provider task veo31 does not track (`veo31 fetch <Kie task id>`)."""
        return await untracked.download_task(self.runtime, provider, task_id, target)

    async def check(self, video: BinaryIO, images: Sequence[bytes], request: CheckRequest) -> QualityReport:
        """The quality report on a clip made anywhere, against its reference photos; nothing is stored."""
        return await checks.check_upload(self.runtime.settings, self.runtime.blobs, video, images, request)

    async def readiness(self) -> dict[str, Any]:
        """What /readyz reports: the database and storage answer, and a configured provider can work."""
        return await readiness(self.runtime)

    def video_key(self, generation: Generation) -> str:
        """Its video's key: once settled (completed, held for review, or rejected in review: kept) and stored."""
        if not generation.status.settled or not generation.video_key:
            raise NotFoundError(f"generation {generation.id} has no video yet (it is {generation.status.value})")
        return generation.video_key

    async def deliver(
        self, generation_id: str, presets: Sequence[str], finish: Finish = Finish()
    ) -> list[tuple[Generation, bool]]:
        """Each preset's deliverable of a finished video: made now (True), or the one that exists (False)."""
        return await deliverables.deliver(self.runtime, await self.get(generation_id), presets, finish)

    @property
    def brand_kits(self) -> BrandKits:
        return BrandKits(self.runtime)

    @property
    def webhooks(self) -> Webhooks:
        return Webhooks(self.runtime)

    @property
    def batches(self) -> Batches:
        """Catalogue runs; cancelling and retrying their generations goes through this door's own."""

        async def retry_one(generation_id: str) -> Generation:
            return (await self.retry(generation_id)).generation

        return Batches(self.runtime, self._cancel, retry_one)

    async def review(self, generation_id: str, verdict: Verdict, note: str | None = None) -> Generation:
        """Approve or reject a video the quality gate held (see `review.review`)."""
        return await review(self.runtime, generation_id, verdict, note)

    def poster_key(self, generation: Generation) -> str:
        if not generation.poster_key:
            raise NotFoundError(f"generation {generation.id} has no poster yet (it is {generation.status.value})")
        return generation.poster_key

    async def save_video(self, generation: Generation, target: Path) -> None:
        """Copy the stored video into a local file (the CLI's `--out`)."""
        await asyncio.to_thread(self.runtime.blobs.get_file, self.video_key(generation), target)

    def watch(self, generation_id: str, *, recheck_seconds: float = 0.5) -> AsyncIterator[Generation]:
        """The generation now and after every change, until it ends (see `watching.watch`)."""
        return watching.watch(self.runtime, generation_id, recheck_seconds)

    async def wait_until_submitted(self, generation_id: str, time_limit: float) -> Generation:
        """The generation once it has a provider task (or ended), or as it stands after `time_limit` s."""
        return await watching.wait_until_submitted(self.runtime, generation_id, time_limit)

    # -- change -------------------------------------------------------------------------------------------------

    async def cancel(self, generation_id: str, idempotency_key: str | None = None) -> Generation:
        """Cancel a generation. With an Idempotency-Key, asking again answers with the canceled generation."""
        runtime = self.runtime
        keyed = request_keys.keyed(idempotency_key, "cancel", generation_id)
        if keyed is not None and await asyncio.to_thread(request_keys.bound_generation, runtime.engine, keyed):
            return await self.get(generation_id)
        generation = await self._cancel(generation_id)
        if keyed is not None:
            await asyncio.to_thread(request_keys.bind, runtime.engine, keyed, generation_id)
        return generation

    async def _cancel(self, generation_id: str) -> Generation:
        runtime = self.runtime
        generation = await self.get(generation_id)
        if generation.status is Status.NEEDS_REVIEW:
            raise ConflictError(f"generation {generation_id} needs review, its video made: approve or reject it")
        if generation.status.terminal:
            raise ConflictError(f"generation {generation_id} already {generation.status.value}; nothing to cancel")
        if not await runtime.set_status(
            generation_id,
            Status.CANCELED,
            "canceled on request",
            error_kind="canceled",
            error_message="canceled on request",
        ):
            generation = await self.get(generation_id)
            raise ConflictError(f"generation {generation_id} already {generation.status.value}; nothing to cancel")
        await DBOS.send_async(generation_id, {"canceled": True}, WAKE)
        await DBOS.cancel_workflow_async(generation_id)
        return await self.get(generation_id)

    async def retry(self, generation_id: str, idempotency_key: str | None = None) -> Created:
        """A new generation with the same request and images, linked to the one that failed or was canceled.

        One live retry per generation: while one is queued, under way or finished, asking again answers with it
        (a double-click, or a client repeating its request, never pays twice). Once it failed too, the next
        retry makes another."""
        runtime = self.runtime
        keyed = request_keys.keyed(idempotency_key, "retry", generation_id)
        existing = keyed and await asyncio.to_thread(store.find_keyed, runtime.engine, keyed)
        if existing:
            return Created(existing, False)
        original = await self.get(generation_id)
        if original.status not in (Status.FAILED, Status.CANCELED):
            raise ConflictError(
                f"only failed or canceled generations can be retried; {generation_id} is {original.status.value}"
            )
        if original.upgrade_of:
            return await self.upgrade(original.upgrade_of, original.spec.resolution)
        if original.deliverable_of:  # made again from its source, for free: never a new paid generation
            kept = original.branding or {}
            finish = Finish(kept.get("kit"), kept.get("price"), bool(kept.get("letterbox")))
            [(again, created)] = await self.deliver(original.deliverable_of, [original.preset or ""], finish)
            return Created(again, created)
        earlier = await asyncio.to_thread(store.children, runtime.engine, generation_id)
        live = [child for child, status in earlier if status not in (Status.FAILED, Status.CANCELED)]
        if live:
            if keyed is not None:
                await asyncio.to_thread(request_keys.bind, runtime.engine, keyed, live[-1])
            return Created(await self.get(live[-1]), False)
        chosen, cost = await self._priced(original.spec, len(original.references))
        return await self._store_and_start(
            chosen,
            cost,
            spec=original.spec,
            references=original.references,
            # Racing retries count the same earlier children, so they derive one key and make one generation.
            idempotency_key=f"veo31:retry:{original.id}:{len(earlier)}",
            request_key=keyed,
            parent_id=original.id,
            warnings=original.warnings,
            reference_video=original.reference_video,
        )

    async def upgrade(self, generation_id: str, resolution: str, idempotency_key: str | None = None) -> Created:
        """Start the 1080p / 4K rendition of a finished generation (or return the one already made or under way)."""
        runtime = self.runtime
        keyed = request_keys.keyed(idempotency_key, "upgrade", generation_id, resolution)
        existing = keyed and await asyncio.to_thread(store.find_keyed, runtime.engine, keyed)
        if existing:
            return Created(existing, False)
        source = await source_of(runtime, await self.get(generation_id))
        check_upgradable(source, resolution)
        earlier = await renditions_at(runtime, source, resolution)
        existing = live_rendition(earlier)
        if existing is not None:
            if keyed is not None:
                await asyncio.to_thread(request_keys.bind, runtime.engine, keyed, existing.id)
            return Created(existing, False)
        generation, created = await create_upgrade(runtime, source, resolution, len(earlier), keyed)
        if created:
            await enqueue(runtime, generation)
        return Created(generation, created)

    async def callback_target(self, provider: str, token: str) -> store.CallbackTarget:
        """The generation a callback URL belongs to; looked up before its body is read, so a stranger's flood of
        bodies costs a query each, never their size in memory."""
        generation = await asyncio.to_thread(store.find_callback_target, self.runtime.engine, token)
        if generation is None or generation.provider != provider:
            raise NotFoundError("no generation expects this callback")
        return generation

    async def deliver_callback(self, generation: store.CallbackTarget, payload: Any) -> bool:
        """A provider's callback: wake the generation's workflow. Its content is a hint, never the verdict."""
        return await callbacks.wake(self.runtime, generation, payload)

    async def fetch(self, generation_id: str) -> Generation:
        """Look again at a generation that ran out of time: retrieve its video if the provider finished."""
        runtime = self.runtime
        generation = await self.get(generation_id)
        if generation.status is Status.COMPLETED:
            return generation
        if not (generation.status is Status.FAILED and generation.error_kind == "timed_out"):
            raise ConflictError(
                f"generation {generation_id} is {generation.status.value}; only one that timed out "
                "waiting for its provider can be fetched again"
            )
        await start_fetch(runtime, generation)
        return await self.get(generation_id)
