"""Catalogue runs: an export read into products, each product's generation found or started by its sync key, the
batch followed as it goes (counts, cost, cancel, retry the failed ones) and its results with stable links.

Starting products is a DBOS workflow (`veo31.batch.v1`), a step per slice of products: a crash resumes after the
last slice it finished, and a product it was starting when it died is found again by its key — started once. Its
generations go on their provider's queue behind single ones (`CATALOGUE_PRIORITY`), and no memory holds the queue:
a product waits as a row until its slice comes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dbos import DBOS, SetWorkflowID
from pydantic import ValidationError

from veo31.catalogue.products import SETTING_COLUMNS, Catalogue, Format
from veo31.catalogue.read import read_catalogue
from veo31.catalogue.sync import sync_key
from veo31.domain import Generation, GenerationSpec, Status
from veo31.errors import ConflictError, InputError, Veo31Error
from veo31.pipeline.costs import budget_problem, estimate_for
from veo31.pipeline.intake import ReferenceIntake
from veo31.pipeline.launch import CATALOGUE_PRIORITY, enqueue_new
from veo31.pipeline.runtime import BACKGROUND, Runtime, current
from veo31.providers.registry import entry, route
from veo31.store import batches as store, events, generations
from veo31.store.batches import Batch, BatchState, Item, ItemView, NewItem, Tally

log = logging.getLogger("veo31.batches")
SLICE = 16  # products started per step: a crash repeats at most this many look-ups (never a payment)
AT_ONCE = 8  # products started side by side (their photos fetched) while their provider would run short of work
MAX_PRODUCTS = 50_000
STOP_SECONDS = 120  # how long a cancel waits for the slice under way (its photos are fetched within 15 s each)
SETTLED = frozenset(status.value for status in Status if status.settled)
SPEC_WORDS = {name: f"column {column}" for column, name in SETTING_COLUMNS.items()}


@dataclass(frozen=True)
class BatchView:
    batch: Batch
    products: int
    tally: Tally
    estimated_usd: float  # to finish: the generations under way and the products not started yet

    @property
    def finished(self) -> bool:
        """Every product started and settled (made, held for review, failed or canceled)."""
        if self.batch.state is BatchState.RUNNING or self.tally.not_started:
            return False
        return all(status in SETTLED for status in self.tally.counts)


async def import_batch(runtime: Runtime, content: bytes, spec: dict[str, Any], file_name: str | None) -> str:
    """Read the export, store the batch and its products, and start it. The shared `spec` is checked first (with a
    product name) so a mistake in it is refused before anything is stored."""
    _spec_for(spec, {}, "a product")
    catalogue: Catalogue = await asyncio.to_thread(read_catalogue, content)
    if len(catalogue.products) > MAX_PRODUCTS:
        raise InputError(
            f"the file has {len(catalogue.products)} products; one batch takes at most {MAX_PRODUCTS}: split it",
            field="file",
        )
    items = [NewItem(p.row, p.id, p.title, list(p.images), dict(p.settings)) for p in catalogue.products]
    skipped = [{"row": item.row, "reason": item.reason} for item in catalogue.skipped]
    batch_id = await asyncio.to_thread(
        store.create,
        runtime.engine,
        format=catalogue.format.value,
        spec=spec,
        skipped=skipped,
        items=items,
        file_name=file_name,
    )
    await start(runtime, batch_id, 0)
    return batch_id


async def start(runtime: Runtime, batch_id: str, round_number: int) -> None:
    with SetWorkflowID(f"{batch_id}-start-{round_number}"):
        await runtime.queue(BACKGROUND).enqueue_async(batch_workflow, batch_id)


@DBOS.workflow(name="veo31.batch.v1")
async def batch_workflow(batch_id: str) -> int:
    """Start every product still waiting, a slice per step, each new generation enqueued by the workflow (a step
    cannot start one); then the batch is started (or stays canceled)."""
    runtime = current()
    started, after = 0, 0
    while True:
        reached = await start_products(batch_id, after)
        if reached is None:
            break
        after, made = reached
        for generation_id, provider in made:
            await enqueue_new(runtime, generation_id, provider, CATALOGUE_PRIORITY)
        started += len(made)
    await products_started(batch_id)
    return started


@DBOS.step()
async def start_products(batch_id: str, after_row: int) -> tuple[int, list[tuple[str, str]]] | None:
    """The next slice of waiting products started: (the last row looked at, the new generations with their
    provider), or None when none is left or the batch was canceled."""
    runtime = current()
    batch = await asyncio.to_thread(store.get, runtime.engine, batch_id)
    if batch.state is BatchState.CANCELED:
        return None
    waiting = await asyncio.to_thread(store.waiting, runtime.engine, batch_id, after_row, SLICE)
    if not waiting:
        return None
    slots = asyncio.Semaphore(await _at_once(runtime, batch))

    async def one(item: Item) -> Generation | None:
        async with slots:
            return await start_product(runtime, batch, item)

    made = await asyncio.gather(*(one(item) for item in waiting))
    return waiting[-1].row, [(generation.id, generation.provider or "") for generation in made if generation]


@DBOS.step()
async def products_started(batch_id: str) -> None:
    runtime = current()
    await asyncio.to_thread(store.set_state, runtime.engine, batch_id, BatchState.STARTED, unless=BatchState.CANCELED)
    await announce_if_finished(runtime, batch_id)


async def _at_once(runtime: Runtime, batch: Batch) -> int:
    """How many products to start side by side: AT_ONCE while the batch's provider has less than a round of work
    (its concurrency) waiting on its queue, so it never runs short; one at a time once it has that much. Starting a
    product is mostly the server's own work (photos decoded, re-encoded, stored; rows and a workflow written), so
    more at once then barely hastened the import and slowed every request answering a person several times over.
    The provider is the one the batch's shared fields choose (a row of veo31's CSV may choose another)."""
    try:
        _, provider = _shared_route(runtime, batch)
    except Veo31Error:
        return AT_ONCE  # no provider takes them now: each product's start records why
    limits = entry(provider, runtime.settings).queue_limits(runtime.settings)
    queued = await asyncio.to_thread(store.queued_on, runtime.engine, provider)
    round_of_work = limits.fleet or limits.worker
    return AT_ONCE if queued < round_of_work else 1


async def start_product(runtime: Runtime, batch: Batch, item: Item) -> Generation | None:
    """Find the product's generation by its sync key, or make it; a product that cannot start keeps its reason
    (in the words of the file: its column, its image). The generation when a new one was made (to enqueue)."""
    try:
        spec = _spec_for(batch.spec, item.settings, item.title)
        urls = [url for url in item.images if url.lower().startswith(("http://", "https://"))]
        if not urls:
            raise InputError(
                f"{item.product_id}: its images are paths on your computer; run `veo31 batch` beside them, "
                "or give web addresses",
                field="images",
            )
        intake = ReferenceIntake(runtime.settings, runtime.blobs)
        references, _ = await intake.take_in((), urls, None)
        key = sync_key(item.product_id, [image.sha256 for image in references], spec.model_dump(mode="json"))
        found = await asyncio.to_thread(generations.find_by_idempotency_key, runtime.engine, key)
        if found is not None:
            latest = await _latest(runtime, found)
            await asyncio.to_thread(
                store.settle_item, runtime.engine, item.id, generation_id=latest, sync_key=key, error=None
            )
            return False
        generation, created = await _create(runtime, spec, references, key)
    except Veo31Error as error:
        await asyncio.to_thread(store.settle_item, runtime.engine, item.id, error=error.message)
        return None
    await asyncio.to_thread(
        store.settle_item, runtime.engine, item.id, generation_id=generation.id, sync_key=key, error=None
    )
    return generation if created else None


async def _create(runtime: Runtime, spec: GenerationSpec, references: list[Any], key: str) -> tuple[Generation, bool]:
    chosen = route(spec, len(references), runtime.settings)
    cost = estimate_for(runtime, chosen.provider, spec)
    over = await asyncio.to_thread(budget_problem, runtime, cost.usd)
    if over is not None:
        raise over
    return await asyncio.to_thread(
        generations.create_generation,
        runtime.engine,
        spec=spec,
        references=references,
        provider=chosen.provider,
        mode=chosen.mode,
        idempotency_key=key,
        cost_estimate_usd=cost.usd,
        cost_basis=cost.basis,
        notes=chosen.notes,
    )


async def _latest(runtime: Runtime, generation: Generation) -> str:
    """The generation a product follows: its latest retry still alive when it failed and was retried."""
    if generation.status not in (Status.FAILED, Status.CANCELED):
        return generation.id
    retries = await asyncio.to_thread(generations.children, runtime.engine, generation.id)
    live = [child for child, status in retries if status not in (Status.FAILED, Status.CANCELED)]
    return live[-1] if live else generation.id


def _shared_route(runtime: Runtime, batch: Batch) -> tuple[GenerationSpec, str]:
    """The request the batch's shared fields make for a product with one photo, and the provider it goes to."""
    spec = _spec_for(batch.spec, {}, "a product")
    return spec, route(spec, 1, runtime.settings).provider


def _spec_for(shared: dict[str, Any], settings: dict[str, Any], title: str) -> GenerationSpec:
    """A product's request: the batch's fields, its own row's settings (veo31's CSV) over them, its title."""
    fields = {**shared, **{SETTING_COLUMNS[k]: v for k, v in settings.items() if k in SETTING_COLUMNS}}
    if title and not fields.get("product_name"):
        fields["product_name"] = title[:200]
    try:
        return GenerationSpec(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "request"
        raise InputError(f"{SPEC_WORDS.get(name, name)}: {first['msg']}", field=name) from None


async def view(runtime: Runtime, batch_id: str) -> BatchView:
    batch, tally = await runtime.read(store.status, runtime.engine, batch_id)
    if batch.state is BatchState.CANCELED and tally.not_started:
        tally = tally.stopped()  # products a canceled batch never started count as canceled: it is over
    products = sum(tally.counts.values())
    unstarted = 0.0
    if tally.not_started:
        spec, provider = _shared_route(runtime, batch)
        unstarted = tally.not_started * (estimate_for(runtime, provider, spec).usd or 0)
    return BatchView(batch, products, tally, round(tally.estimated_usd + unstarted, 4))


async def announce_if_finished(runtime: Runtime, batch_id: str) -> None:
    """`batch.completed` once every product settled (once per round: a retry of its failed ones can end it again)."""
    if await asyncio.to_thread(store.any_unsettled, runtime.engine, batch_id):
        return
    seen = await view(runtime, batch_id)
    if seen.finished:
        topic = f"batch:{batch_id}:completed:{seen.batch.round}"
        await asyncio.to_thread(events.add_alone, runtime.engine, topic, batch_id, "completed")


async def cancel(runtime: Runtime, batch_id: str, cancel_one: Callable[[str], Awaitable[Any]]) -> int:
    """Stop starting products and cancel every generation of the batch still under way; how many were canceled."""
    batch = await asyncio.to_thread(store.get, runtime.engine, batch_id)
    await asyncio.to_thread(store.set_state, runtime.engine, batch_id, BatchState.CANCELED)
    # Its workflow stops at the next slice; the products of the slice under way are canceled with the rest.
    starting = await DBOS.retrieve_workflow_async(f"{batch_id}-start-{batch.round}")
    try:
        async with asyncio.timeout(STOP_SECONDS):
            await starting.get_result()
    except TimeoutError:  # no worker took it up meanwhile: when one does, it starts nothing (the batch is canceled)
        log.warning("batch %s: its start workflow did not stop within %d s", batch_id, STOP_SECONDS)
    canceled = 0
    for item in await asyncio.to_thread(store.views, runtime.engine, batch_id):
        if item.item.generation_id and item.status and not Status(item.status).settled:
            try:
                await cancel_one(item.item.generation_id)
                canceled += 1
            except ConflictError:
                continue  # it ended meanwhile: nothing to cancel
    await announce_if_finished(runtime, batch_id)
    return canceled


async def retry_failed(
    runtime: Runtime, batch_id: str, retry_one: Callable[[str], Awaitable[Generation]]
) -> tuple[int, int]:
    """A new generation for every product whose generation failed or was canceled, and another go for those that
    could not start; (retried, restarted)."""
    batch = await asyncio.to_thread(store.get, runtime.engine, batch_id)
    retried = 0
    for item in await asyncio.to_thread(store.views, runtime.engine, batch_id):
        generation_id = item.item.generation_id
        if generation_id and item.status in (Status.FAILED.value, Status.CANCELED.value):
            again = await retry_one(generation_id)
            await asyncio.to_thread(store.replace_generation, runtime.engine, batch_id, generation_id, again.id)
            retried += 1
    restarted = await asyncio.to_thread(store.reopen_failed, runtime.engine, batch_id)
    if retried or restarted or batch.state is BatchState.CANCELED:
        number = await asyncio.to_thread(store.next_round, runtime.engine, batch_id)
        await start(runtime, batch_id, number)
    return retried, restarted


async def recent(runtime: Runtime, limit: int) -> list[Batch]:
    return await runtime.read(store.list_recent, runtime.engine, limit)


async def products(runtime: Runtime, batch_id: str, after_row: int = 0, limit: int | None = None) -> list[ItemView]:
    """The batch's products in the file's order, each with its generation as it stands."""
    await runtime.read(store.get, runtime.engine, batch_id)
    return await runtime.read(store.views, runtime.engine, batch_id, after_row=after_row, limit=limit)


def format_label(value: str) -> str:
    return {
        Format.SHOPIFY: "Shopify product CSV",
        Format.SHOPIFY_NEW: "Shopify product CSV (new header)",
        Format.WOOCOMMERCE: "WooCommerce product CSV",
        Format.MERCHANT_TSV: "Google Merchant Center feed (TSV)",
        Format.MERCHANT_XML: "Google Merchant Center feed (XML)",
        Format.VEO31: "veo31 CSV",
    }.get(Format(value), value)


class Batches:
    """Catalogue runs as the API, the page and the CLI see them (through the service, which lends its own cancel
    and retry of a generation)."""

    def __init__(
        self,
        runtime: Runtime,
        cancel_one: Callable[[str], Awaitable[Any]],
        retry_one: Callable[[str], Awaitable[Generation]],
    ) -> None:
        self.runtime = runtime
        self._cancel_one = cancel_one
        self._retry_one = retry_one

    async def create(self, content: bytes, spec: dict[str, Any], file_name: str | None = None) -> BatchView:
        return await self.get(await import_batch(self.runtime, content, spec, file_name))

    async def get(self, batch_id: str) -> BatchView:
        return await view(self.runtime, batch_id)

    async def recent(self, limit: int = 20) -> list[BatchView]:
        return [await self.get(batch.id) for batch in await recent(self.runtime, limit)]

    async def products(self, batch_id: str, after_row: int = 0, limit: int | None = None) -> list[ItemView]:
        return await products(self.runtime, batch_id, after_row, limit)

    async def cancel(self, batch_id: str) -> BatchView:
        await cancel(self.runtime, batch_id, self._cancel_one)
        return await self.get(batch_id)

    async def retry(self, batch_id: str) -> BatchView:
        await retry_failed(self.runtime, batch_id, self._retry_one)
        return await self.get(batch_id)
