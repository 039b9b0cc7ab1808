"""Starting and stopping the pipeline in a process: the database (migrated), DBOS on this event loop, one queue
per provider with its limits, the media processes and the sweeper; and their orderly end."""

from __future__ import annotations

import asyncio
import logging

from dbos import DBOS, DBOSConfig

from veo31 import __version__
from veo31.analysis.choose import build_analyser
from veo31.config import Settings
from veo31.errors import Veo31Error
from veo31.media import processes
from veo31.pipeline import legacy
from veo31.pipeline.dispatch import dispatch_forever
from veo31.pipeline.launch import FINISHING
from veo31.pipeline.runtime import BACKGROUND, Runtime, install, running
from veo31.pipeline.sweeper import sweep_forever
from veo31.pipeline.takeover import beat_forever
from veo31.prompts.choose import build_prompt_writer
from veo31.providers.base import ChecksItself, Provider
from veo31.providers.registry import build_providers, entries
from veo31.quality.gate import limits_from
from veo31.store.blobs import open_blob_store
from veo31.store.db import create_db_engine, migrate, write_ahead_log

log = logging.getLogger("veo31.pipeline")
# Registered with DBOS when imported: the frozen shapes older versions may have left in flight resume here.
FROZEN_SHAPES = (legacy.legacy_generation_workflow, legacy.legacy_upgrade_workflow, legacy.legacy_fetch_workflow)
# DBOS's thread pool, which is also the event loop's (every `asyncio.to_thread`), is unbounded by default: 500
# generations in flight made 320 threads, each with its stack and its share of the allocator, all fighting for the
# interpreter lock and SQLite's one writer slot; bounded, memory peaks lower at the same throughput
# (bench/pipeline.py; docs/performance.md). Its calls are short (a query, a file move), so work waits in its queue
# rather than on locks; 16 leaves room for slow ones (an upload to S3).
EXECUTOR_THREADS = 16
# What runs in the media processes: retrieval's download and decoding check, the photos' analysis.
MEDIA_WORK = ("veo31.providers._http", "veo31.media.probe", "veo31.analysis.local")


def queue_name(provider: str) -> str:
    return f"provider-{provider}"


async def start(settings: Settings, *, worker: bool = True) -> Runtime:
    """Open the database (migrating it), launch DBOS on this event loop and register the provider queues.

    Launching recovers this executor's interrupted workflows: they resume after their last finished step. With
    `worker=False` (an API-only process, or a CLI command that only reads) nothing is dequeued or recovered here.
    """
    if running() is not None:
        raise RuntimeError("the pipeline is already running in this process")
    limits_from(settings.quality_thresholds)  # a threshold misnamed stops the start, not a check later
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.resolved_database_url)
    await asyncio.to_thread(migrate, engine)
    runtime = Runtime(
        settings,
        engine,
        open_blob_store(settings),
        build_providers(settings),
        build_analyser(settings),
        build_prompt_writer(settings),
    )
    install(runtime)
    config = DBOSConfig(
        name="veo31",
        system_database_url=settings.system_database_url,
        application_version=__version__,
        # A process that does not work must not recover a worker's workflows at launch: it gets an id of its own.
        executor_id=settings.executor_id if worker else f"{settings.executor_id}:api",
        notification_listener_polling_interval_sec=settings.wake_interval_seconds,
        max_executor_threads=EXECUTOR_THREADS,
        log_level="WARNING",
    )
    if settings.system_database_url.startswith("sqlite"):
        # DBOS checks a pooled connection with a `SELECT 1` before each use: against a server that may have dropped
        # it, worth a round trip; on a SQLite file it only adds a query to every checkpoint and every look at a
        # waiting workflow's mailbox, each taking the interpreter's lock from the requests being answered.
        config["db_engine_kwargs"] = {"pool_pre_ping": False}
    await asyncio.to_thread(write_ahead_log, settings.system_database_url)
    DBOS(config=config)
    if not worker:
        DBOS.listen_queues([])  # enqueue, send and cancel, but never dequeue: `veo31 worker` processes do that
    DBOS.launch()
    # DBOS keeps a queue's limits in the shared database, read by every worker: the process that started last
    # (on the newest version) sets them, so the workers of one fleet should share these settings.
    for entry in entries(settings):
        limits = entry.queue_limits(settings)
        runtime.queues[entry.name] = await DBOS.register_queue_async(
            queue_name(entry.name),
            worker_concurrency=limits.worker,
            global_concurrency=limits.fleet,
            limiter={"limit": limits.starts, "period": limits.period},
            polling_interval_sec=settings.queue_poll_seconds,
        )
    # Deliverables are media work: no more at once per worker than it has media processes.
    runtime.queues[FINISHING] = await DBOS.register_queue_async(
        FINISHING,
        worker_concurrency=settings.media_processes,
        polling_interval_sec=settings.queue_poll_seconds,
    )
    # Batches start their products and webhooks wait out their retries here: unbounded, as they mostly wait.
    runtime.queues[BACKGROUND] = await DBOS.register_queue_async(
        BACKGROUND, polling_interval_sec=settings.queue_poll_seconds
    )
    runtime.problems = await check_providers(runtime.providers)
    if worker:
        processes.configure(settings.media_processes, preload=MEDIA_WORK)
        processes.start()  # booted now rather than when the first video is ready

        loop = asyncio.get_running_loop()
        for job in (
            loop.create_task(sweep_forever(runtime), name="veo31-sweeper"),
            loop.create_task(dispatch_forever(runtime), name="veo31-dispatch"),
            loop.create_task(beat_forever(runtime, settings.executor_id), name="veo31-heartbeat"),
        ):
            runtime.background.add(job)
    return runtime


async def check_providers(providers: dict[str, Provider], time_limit: float = 15.0) -> dict[str, str]:
    """Ask each provider, at start-up, whether it can work as configured (Google: is each model served?)."""

    async def one(name: str, provider: Provider) -> tuple[str, str | None]:
        if not isinstance(provider, ChecksItself):
            return name, None
        try:
            async with asyncio.timeout(time_limit):
                return name, await provider.check()
        except TimeoutError:
            return name, f"{provider.label} did not answer the start-up check within {time_limit:g} s"
        except Veo31Error as error:
            return name, error.message

    answers = await asyncio.gather(*(one(name, provider) for name, provider in providers.items()))
    for name, problem in answers:
        if problem:
            log.warning("provider %s: %s", name, problem)
    return {name: problem for name, problem in answers if problem}


async def stop() -> None:
    runtime = install(None)
    if runtime is None:
        return
    for job in runtime.background:
        job.cancel()
    await asyncio.gather(*runtime.background, return_exceptions=True)
    await asyncio.to_thread(DBOS.destroy, workflow_completion_timeout_sec=0)
    for provider in runtime.providers.values():
        await provider.aclose()
    await runtime.analyser.aclose()
    await runtime.writer.aclose()
    runtime.readers.shutdown(wait=False)
    runtime.engine.dispose()
