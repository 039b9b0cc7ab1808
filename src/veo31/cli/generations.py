"""`veo31 generate`, `status`, `fetch`, `list`, `cancel` and `worker`: generations from the shell.

By default the pipeline runs in this process on the embedded defaults (the same database and data folder as
`veo31 serve`); `--server URL` sends the work to a running server instead. Exit codes: 0 done, 1 a generation
failed (or was canceled), 2 a usage error — said in one line, before anything is created or written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.table import Table

from veo31.cli import _first_error, _read, app, err, fail, out, settings_or_exit
from veo31.cli.client import SETTLED, Client, LocalClient, RemoteClient
from veo31.cli.presence import running_server
from veo31.config import Settings
from veo31.domain import GenerationSpec
from veo31.errors import InputError, NotFoundError, Veo31Error

T = TypeVar("T")
ServerOption = Annotated[
    str | None, typer.Option("--server", help="Send the work to a running veo31 server at this URL.")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="VEO31_TOKEN", help="API token for --server (or VEO31_TOKEN).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
STEP_WORDS = {
    "queued": "waiting for its turn",
    "preparing": "analysing the photos and writing the prompt",
    "submitted": "sent to the provider",
    "generating": "the provider is making the video",
    "retrieving": "downloading and verifying the video",
    "checking": "checking the video against the photos",
    "needs_review": "waiting for a person's review",
    "completed": "ready",
    "failed": "failed",
    "canceled": "canceled",
}


@contextlib.asynccontextmanager
async def connect(
    server: str | None, token: str | None, *, worker: bool = True, quiet: bool = False
) -> AsyncIterator[Client]:
    """The server given with --server; else the `veo31 serve` running on this data folder, if one is (its links are
    the ones that work); else a pipeline of our own, in this process. Says which, unless `quiet`."""
    client: Client
    if server:
        client = RemoteClient(server, token)
    else:
        settings = settings_or_exit()
        found = running_server(settings.data_dir)
        if found is not None:
            if not quiet:
                out.print(f"Using the veo31 server at {found} (it serves {settings.data_dir})", highlight=False)
            client = RemoteClient(found, token or first_token(settings))
        else:
            if not quiet:
                out.print(
                    f"No veo31 server is running on {settings.data_dir}: working alone, in this process "
                    "(start one with `veo31 serve` to share the work and get links that open)",
                    highlight=False,
                )
            client = await LocalClient.start(settings, worker=worker)
    try:
        yield client
    finally:
        await client.aclose()


def first_token(settings: Settings) -> str | None:
    """The server on this data folder reads the same settings: its first token lets this command in."""
    return settings.api_tokens[0].get_secret_value() if settings.api_tokens else None


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run the command's async work; our errors become one line and an exit code (2 for what the user can fix
    in the command, 1 for the rest)."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except (InputError, NotFoundError) as exc:
        raise fail(exc.message, 2) from None
    except Veo31Error as exc:
        raise fail(exc.message, 1) from None


# The generate command's flag for each field of a request.
FLAGS = {
    "model_tier": "--model",
    "duration_seconds": "--duration",
    "aspect_ratio": "--aspect",
    "product_name": "--product",
    "extra_prompt": "--extra",
}


def build_spec(**fields: Any) -> GenerationSpec:
    try:
        return GenerationSpec(**{name: value for name, value in fields.items() if value is not None})
    except ValidationError as exc:
        raise fail(_first_error(exc, FLAGS), 2) from None


def check_out(target: Path | None) -> Path | None:
    if target is None:
        return None
    target = target.expanduser().resolve()
    if not target.parent.is_dir():
        raise fail(f"cannot write {target}: the folder {target.parent} does not exist", 2)
    return target


@app.command()
def generate(
    images: Annotated[list[Path] | None, typer.Argument(help="1–3 product photos, in order.")] = None,
    url: Annotated[list[str] | None, typer.Option("--url", help="An image URL (repeatable).")] = None,
    use_case: Annotated[str, typer.Option(help="product_video, hero_image, turntable_360, social_vertical, …")] = (
        "product_video"
    ),
    provider: Annotated[str, typer.Option(help="auto, kie, gemini or local.")] = "auto",
    model: Annotated[str, typer.Option(help="fast, quality or lite.")] = "fast",
    duration: Annotated[int, typer.Option(help="Seconds (Kie.ai: 8; local: 2–30).")] = 8,
    aspect: Annotated[str, typer.Option(help="16:9 or 9:16.")] = "16:9",
    resolution: Annotated[str, typer.Option(help="720p, 1080p or 4k.")] = "720p",
    fps: Annotated[int | None, typer.Option(help="24 or 30 where the provider offers both.")] = None,
    prompt: Annotated[str | None, typer.Option(help="Send exactly this prompt (skips analysis).")] = None,
    product: Annotated[str | None, typer.Option(help="The product's name.")] = None,
    extra: Annotated[str | None, typer.Option(help="Extra wishes added to the written prompt.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the finished video here.")] = None,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Print the id and return at once.")] = False,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Make one product video and write it to --out, showing each step as it happens."""
    spec = build_spec(
        use_case=use_case,
        provider=provider,
        model_tier=model,
        duration_seconds=duration,
        aspect_ratio=aspect,
        resolution=resolution,
        fps=fps,
        prompt=prompt,
        product_name=product,
        extra_prompt=extra,
    )
    photos = [(path.name, _read(path)) for path in images or []]
    target = check_out(out_file)

    async def work() -> dict[str, Any]:
        async with connect(server, token, quiet=as_json) as client:
            generation = await client.create(spec, photos, url or [], None)
            cost = generation.get("cost") or {}
            if not as_json and cost.get("estimate_usd"):
                out.print(f"Estimated cost: ${cost['estimate_usd']:.2f} ({cost.get('basis')})", highlight=False)
            if no_wait:
                return generation
            generation = await follow(client, generation, quiet=as_json)
            if generation["status"] == "completed" and target is not None:
                await client.save_video(generation, target)
            return generation

    generation = run(work)
    finish(generation, target, as_json=as_json, waited=not no_wait)


async def follow(client: Client, start: dict[str, Any], *, quiet: bool) -> dict[str, Any]:
    """Watch a generation to its end, printing each step (with its time) as it is reached."""
    started = time.monotonic()
    seen = 0
    generation = start
    with contextlib.nullcontext() if quiet else out.status("starting…") as status:
        async for generation in client.watch(start["id"]):
            for change in generation["history"][seen:]:
                if not quiet:
                    detail = f" — {change['detail']}" if change.get("detail") else ""
                    out.print(
                        f"  {time.monotonic() - started:6.1f} s  {change['status']:<10} {detail}",
                        highlight=False,
                        soft_wrap=True,
                    )
            seen = len(generation["history"])
            if status is not None:
                status.update(STEP_WORDS.get(generation["status"], generation["status"]) + "…")
            if generation["status"] in SETTLED:
                break
    return generation


def review_reasons(generation: dict[str, Any]) -> str:
    """Why the quality gate held it: its failed checks' messages (or, unchecked, the history's last word)."""
    failed = [check["message"] for check in (generation.get("quality") or {}).get("checks", []) if not check["passed"]]
    history = generation.get("history") or [{}]
    return "; ".join(failed) or history[-1].get("detail") or "the quality checks failed"


def finish(generation: dict[str, Any], target: Path | None, *, as_json: bool, waited: bool) -> None:
    if as_json:
        print(json.dumps({**generation, "out": str(target) if target and waited else None}, indent=2, default=str))
    elif not waited:
        out.print(f"{generation['id']} {generation['status']} — follow it with: veo31 status {generation['id']}")
    elif generation["status"] == "completed":
        video = generation.get("video") or {}
        where = f" → {target}" if target else " (add --out FILE to save it)"
        size = f"{video.get('width')}×{video.get('height')}, {video.get('duration')} s" if video else ""
        out.print(f"[green]done[/] {generation['id']} {size}{where}", highlight=False)
    if waited and generation["status"] == "needs_review":
        raise fail(
            f"{generation['id']} needs review: {review_reasons(generation)}\nlook at it, then `veo31 approve "
            f"{generation['id']}` or `veo31 reject {generation['id']} --note WHY`",
            1,
        )
    if waited and generation["status"] in ("failed", "canceled"):
        error = generation.get("error") or {}
        advice = f"\n{error['advice']}" if error.get("advice") else ""
        raise fail(f"{generation['id']} {generation['status']}: {error.get('message') or ''}{advice}", 1)


@app.command()
def status(
    generation_id: Annotated[str, typer.Argument(help="A generation id, or its first characters.")],
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Where a generation stands, with every step it went through."""

    async def work() -> dict[str, Any]:
        async with connect(server, token, worker=False, quiet=as_json) as client:
            return await client.get(generation_id)

    generation = run(work)
    if as_json:
        print(json.dumps(generation, indent=2, default=str))
    else:
        spec = generation["spec"]
        out.print(
            f"[bold]{generation['id']}[/] {generation['status']} — {generation.get('provider_label') or ''}, "
            f"{spec.get('product_name') or spec['use_case']}, {spec['duration_seconds']} s {spec['aspect_ratio']} "
            f"{spec['resolution']}",
            highlight=False,
        )
        for change in generation["history"]:
            detail = f" — {change['detail']}" if change.get("detail") else ""
            out.print(f"  {change['at'][:19]}  {change['status']}{detail}", highlight=False, soft_wrap=True)
        if generation.get("error"):
            err.print(f"  {generation['error'].get('advice') or ''}", highlight=False)
        print_quality(generation.get("quality"))
    if generation["status"] in ("failed", "canceled", "needs_review"):
        raise typer.Exit(1)


def print_quality(report: dict[str, Any] | None) -> None:
    """The quality gate's verdict under the history: passed, or each check that failed and why."""
    if not report:
        return
    out.print(f"  quality {'passed' if report['passed'] else 'failed'} (score {report['score']:.2f})", highlight=False)
    for check in report["checks"]:
        if not check["passed"]:
            out.print(f"    ✗ {check['kind']}: {check['message']}", highlight=False, soft_wrap=True)


@app.command()
def fetch(
    generation_id: Annotated[
        str, typer.Argument(help="A generation id (or its first characters), or a Kie.ai task id veo31 never tracked.")
    ],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the video here (default: named as the page names a download)."),
    ] = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Write a finished video to a file; look again at one that timed out; or fetch a raw Kie.ai task's video."""
    target = check_out(out_file)

    async def work() -> dict[str, Any]:
        nonlocal target
        async with connect(server, token, quiet=as_json) as client:
            try:
                generation = await client.get(generation_id)
            except NotFoundError:
                target = target or check_out(Path(f"kie-task-{generation_id[:40]}.mp4"))
                assert target is not None
                info = await client.save_task_video(generation_id, target)
                return {"id": generation_id, "status": "completed", "video": info, "history": []}
            target = target or check_out(Path(generation["download_name"]))
            assert target is not None
            if generation["status"] == "failed":
                generation = await client.fetch(generation_id)  # timed out: ask the provider again
            if generation["status"] not in SETTLED:
                generation = await follow(client, generation, quiet=as_json)
            if generation["status"] == "completed":
                await client.save_video(generation, target)
            return generation

    fetched = run(work)  # chooses the file name when --out was not given
    finish(fetched, target, as_json=as_json, waited=True)


@app.command("list")
def list_generations(
    status_filter: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 20,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """The newest generations."""

    async def work() -> tuple[list[dict[str, Any]], float]:
        async with connect(server, token, worker=False, quiet=as_json) as client:
            return await client.list(status_filter, limit), await client.total_cost(status_filter)

    items, total = run(work)
    if as_json:
        print(json.dumps(items, indent=2, default=str))
        return
    table = Table(title=f"{len(items)} generation(s)")
    table.add_column("id", no_wrap=True, min_width=32)  # whole, to copy (the first characters are enough too)
    for column in ("status", "provider", "product", "cost", "created"):
        table.add_column(column)
    for item in items:
        spec = item["spec"]
        table.add_row(
            item["id"],
            item["status"],
            item.get("provider_label") or "",
            spec.get("product_name") or spec["use_case"],
            cost_words(item.get("cost") or {}),
            str(item["created_at"])[:19],
        )
    out.print(table)
    which = f" {status_filter}" if status_filter else ""
    out.print(f"Total cost of all{which} generations: ${total:.2f}", highlight=False)


def cost_words(cost: dict[str, Any]) -> str:
    """$0.80 when reported, ~$0.80 while it is only an estimate."""
    if cost.get("reported_usd") is not None:
        return f"${cost['reported_usd']:.2f}"
    if cost.get("estimate_usd") is not None:
        return f"~${cost['estimate_usd']:.2f}"
    return ""


@app.command()
def cancel(
    generation_id: Annotated[str, typer.Argument(help="A running generation's id, or its first characters.")],
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Stop a generation that has not finished."""

    async def work() -> dict[str, Any]:
        async with connect(server, token, worker=False, quiet=as_json) as client:
            return await client.cancel(generation_id)

    generation = run(work)
    if as_json:
        print(json.dumps(generation, indent=2, default=str))
    else:
        out.print(f"{generation['id']} {generation['status']}")


@app.command()
def worker() -> None:
    """Run the pipeline only (no HTTP API): it picks up queued generations and finishes interrupted ones."""
    settings = settings_or_exit()

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sign in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sign, stop.set)
        client = await LocalClient.start(settings, worker=True)  # always its own pipeline: that is its job
        try:
            out.print(f"veo31 worker running on {settings.data_dir} (Ctrl-C to stop)")
            await stop.wait()
        finally:
            await client.aclose()

    run(work)
