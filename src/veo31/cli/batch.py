"""`veo31 batch FILE`: a store's product export runs as a batch (`cli.catalogue`); veo31's own CSV, one product per
row, a few at a time, resumable, as follows.

Columns: `images` (paths relative to the CSV, or URLs; several separated by `;`), `product_name`, `use_case`, and
optional overrides `provider`, `model`, `duration`, `aspect`, `resolution`, `fps`, `prompt`, `extra`, `out` (the
video's file name); `presets` (channel presets separated by `;`, made from the video once it is finished, each file
saved beside it), with `brand_kit` and `price` to brand them. Results go to `<FILE>.results.csv` (row, product,
status, id, path, url, error, attempts, deliverables) and the videos to `--out-dir`. A rerun skips the rows whose
video (and deliverables) are already there; a row whose generation is still running is picked up again (its
idempotency key finds it, so nothing is submitted twice); a failed row is tried anew. A bad row (unreadable photo,
unknown use case, misspelt preset, …) fails alone with its reason.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from veo31.catalogue.products import SETTING_COLUMNS, Format
from veo31.catalogue.read import read_catalogue
from veo31.cli import _first_error, _read, app, fail, out
from veo31.cli.catalogue import report, run_export
from veo31.cli.client import SETTLED, Client
from veo31.cli.generations import ServerOption, TokenOption, build_spec, connect, review_reasons, run
from veo31.domain import GenerationSpec
from veo31.errors import InputError, Veo31Error
from veo31.finishing.presets import PRESETS
from veo31.pipeline.deliverables import Finish

RESULT_COLUMNS = ["row", "product_name", "status", "id", "path", "url", "error", "attempts", "deliverables"]
OVERRIDES = {column: name for column, name in SETTING_COLUMNS.items() if column != "use_case"}


@dataclass
class Row:
    number: int
    fields: dict[str, str]
    result: dict[str, str] = field(default_factory=dict)

    @property
    def product(self) -> str:
        return self.fields.get("product_name", "").strip()


@app.command()
def batch(
    file: Annotated[
        Path,
        typer.Argument(
            help="A product export (Shopify, WooCommerce, Google Merchant Center feed) or veo31's CSV (images, "
            "product_name, use_case, optional overrides)."
        ),
    ],
    out_dir: Annotated[
        Path | None, typer.Option(help="Where the videos go (default: videos/ beside the file).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=50, help="Generations at once (veo31's CSV).")] = 4,
    results: Annotated[Path | None, typer.Option(help="The results CSV (default: FILE.results.csv).")] = None,
    use_case: Annotated[str | None, typer.Option(help="Every product's use case (a store export).")] = None,
    provider: Annotated[str | None, typer.Option(help="kie, gemini, local or auto (a store export).")] = None,
    model: Annotated[str | None, typer.Option(help="fast, quality or lite (a store export).")] = None,
    aspect: Annotated[str | None, typer.Option(help="16:9 or 9:16 (a store export).")] = None,
    duration: Annotated[int | None, typer.Option(help="Seconds per video (a store export).")] = None,
    retry_failed: Annotated[bool, typer.Option(help="Give the failed products of the batch another go.")] = False,
    videos: Annotated[bool, typer.Option(help="Save each finished video (a store export).")] = True,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Make one video per product, a few at a time; rerun to pick up where it stopped."""
    content = _read(file)
    try:
        kind = read_catalogue(content).format
    except InputError as error:
        raise fail(f"{file}: {error.message}", 2) from None
    if kind is not Format.VEO31:
        given = dict(use_case=use_case, provider=provider, model_tier=model, aspect_ratio=aspect)
        spec = {name: value for name, value in {**given, "duration_seconds": duration}.items() if value is not None}
        build_spec(product_name="a product", **spec)  # a mistake is named by its flag before anything is sent
        file = file.resolve()
        target = (results or file.with_suffix(".results.csv")).resolve()
        folder = (out_dir or file.parent / "videos").resolve() if videos else None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

        async def follow() -> dict[str, Any]:
            return await run_export(
                file, content, spec, videos=folder, results=target, retry_failed=retry_failed,
                server=server, token=token,
            )  # fmt: skip

        try:
            ended = run(follow)
        except KeyboardInterrupt:
            raise fail("stopped following; run the same command again to pick the batch up where it is", 130) from None
        report(ended, target)
        return
    file = file.resolve()
    rows = read_rows(file)
    results_path = results or file.with_suffix(".results.csv")
    videos = (out_dir or file.parent / "videos").resolve()
    videos.mkdir(parents=True, exist_ok=True)
    previous = read_results(results_path)
    for row in rows:
        row.result = previous.get(str(row.number), {})
    todo = [row for row in rows if not finished(row)]
    skipped = len(rows) - len(todo)

    async def work() -> None:
        async with connect(server, token) as client:
            slots = asyncio.Semaphore(concurrency)
            with Progress(
                TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=out
            ) as progress:
                bar = progress.add_task("batch", total=len(rows), completed=skipped)

                async def one(row: Row) -> None:
                    async with slots:
                        await make(client, file, videos, row)
                    write_results(results_path, rows)
                    progress.advance(bar)

                await asyncio.gather(*(one(row) for row in todo))

    run(work)
    write_results(results_path, rows)
    summary(rows, skipped, results_path)


def read_rows(file: Path) -> list[Row]:
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "images" not in reader.fieldnames:
                raise fail(f"{file} needs a header row with at least an `images` column", 2)
            return [
                Row(number, {key.strip(): (value or "").strip() for key, value in raw.items() if key})
                for number, raw in enumerate(reader, start=1)
            ]
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}", 2) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise fail(f"{file} is not a readable CSV file: {exc}", 2) from None


def read_results(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["row"]: row for row in csv.DictReader(handle)}


def finished(row: Row) -> bool:
    """The row's video is saved, and every deliverable it asked for."""
    saved = [row.result.get("path", ""), *filter(None, row.result.get("deliverables", "").split(";"))]
    wanted = 1 + len(preset_names(row))
    return row.result.get("status") == "completed" and len(saved) == wanted and all(Path(p).is_file() for p in saved)


def preset_names(row: Row) -> list[str]:
    return [name.strip() for name in row.fields.get("presets", "").split(";") if name.strip()]


def presets_of(row: Row) -> list[str]:
    """The row's `presets` column, checked: a name that is no preset fails the row, in the column's words."""
    names = preset_names(row)
    for name in names:
        if name not in PRESETS:
            raise Veo31Error(f"column presets: {name!r} is no preset; the presets are {', '.join(PRESETS)}")
    if row.fields.get("price") and not row.fields.get("brand_kit"):
        raise Veo31Error("column price is shown with a brand kit: fill column brand_kit as well")
    return names


def write_results(path: Path, rows: list[Row]) -> None:
    """Rewrite the results file whole (temporary name, then a move), so a crash never leaves half a file."""
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=".veo31-results-", suffix=".csv")
    with os.fdopen(handle, "w", newline="", encoding="utf-8") as sink:
        writer = csv.DictWriter(sink, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({"row": row.number, "product_name": row.product, **row.result})
    os.replace(scratch, path)


async def make(client: Client, file: Path, videos: Path, row: Row) -> None:
    if row.result.get("status") == "needs_review" and row.result.get("id"):
        held = await client.get(row.result["id"])  # approved since, or still waiting: no new (paid) generation
        if held["status"] in ("completed", "needs_review"):
            await settle(client, videos, row, held)
            return
    attempts = int(row.result.get("attempts") or 0) + (1 if row.result.get("status") in ("failed", "canceled") else 0)
    row.result = {"status": "running", "attempts": str(attempts), "id": row.result.get("id", "")}
    try:
        presets_of(row)  # a misspelt preset fails the row before anything is paid
        spec, photos, urls = prepare(file, row)
        key = hashlib.sha256(f"{file}|{row.number}|{sorted(row.fields.items())}|{attempts}".encode())
        created = await client.create(spec, photos, urls, key.hexdigest())
        row.result["id"] = created["id"]
        generation = created
        async for generation in client.watch(created["id"]):
            if generation["status"] in SETTLED:
                break
        await settle(client, videos, row, generation)
    except Veo31Error as exc:
        row.result.update(status="failed", error=exc.message)


async def settle(client: Client, videos: Path, row: Row, generation: dict[str, Any]) -> None:
    """The row's result from its settled generation: the video saved, held for review (the reasons; a later run
    looks again), or the failure."""
    if generation["status"] == "needs_review":
        row.result.update(status="needs_review", id=generation["id"], error=review_reasons(generation))
        return
    if generation["status"] != "completed":
        error = generation.get("error") or {}
        raise Veo31Error(error.get("message") or generation["status"])
    target = videos / video_name(row)
    await client.save_video(generation, target)
    row.result.update(path=str(target), url=generation.get("video_url") or "")
    row.result.update(status="completed", deliverables=await delivered(client, row, generation["id"], target), error="")


async def delivered(client: Client, row: Row, generation_id: str, video: Path) -> str:
    """The row's presets made from its video (asking again makes nothing new) and saved beside it, named after it;
    their paths, separated by `;`. One that fails fails the row, with its reason."""
    names = presets_of(row)
    if not names:
        return ""
    finish = Finish(row.fields.get("brand_kit") or None, row.fields.get("price") or None)
    made = await client.deliver(generation_id, names, finish)
    paths = []
    for item in made:
        generation: dict[str, Any] = item
        async for generation in client.watch(item["id"]):
            if generation["status"] in SETTLED:
                break
        if generation["status"] != "completed":
            error = generation.get("error") or {}
            raise Veo31Error(f"the {item['preset']} version: {error.get('message') or generation['status']}")
        extension = Path(generation.get("download_name") or "x.mp4").suffix
        target = video.with_name(f"{video.stem}-{item['preset']}{extension}")
        await client.save_video(generation, target)
        paths.append(str(target))
    return ";".join(paths)


def prepare(file: Path, row: Row) -> tuple[GenerationSpec, list[tuple[str, bytes]], list[str]]:
    fields: dict[str, Any] = {"use_case": row.fields.get("use_case") or "product_video"}
    if row.product:
        fields["product_name"] = row.product
    for column, name in OVERRIDES.items():
        if row.fields.get(column):
            fields[name] = row.fields[column]
    try:
        spec = GenerationSpec(**fields)
    except ValidationError as exc:
        columns = {name: f"column {column}" for column, name in OVERRIDES.items()}
        columns.update(use_case="column use_case", product_name="column product_name")
        raise Veo31Error(_first_error(exc, columns)) from None
    photos, urls = [], []
    for item in filter(None, (part.strip() for part in row.fields.get("images", "").split(";"))):
        if re.match(r"^https?://", item, re.IGNORECASE):
            urls.append(item)
            continue
        path = (file.parent / item).resolve()
        try:
            photos.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise Veo31Error(f"cannot read {item}: {exc.strerror}") from None
    return spec, photos, urls


def video_name(row: Row) -> str:
    if row.fields.get("out"):
        return Path(row.fields["out"]).name
    slug = re.sub(r"[^A-Za-z0-9]+", "-", row.product).strip("-").lower()[:60] or "video"
    return f"{row.number:03d}-{slug}.mp4"


def summary(rows: list[Row], skipped: int, results_path: Path) -> None:
    done = [row for row in rows if row.result.get("status") == "completed"]
    failed = [row for row in rows if row.result.get("status") != "completed"]
    table = Table(title=f"{len(done)} of {len(rows)} done ({skipped} already done before) — {results_path}")
    for column in ("row", "product", "status", "video or reason"):
        table.add_column(column)
    for row in rows:
        status = row.result.get("status", "")
        detail = row.result.get("path") if status == "completed" else row.result.get("error", "")
        table.add_row(str(row.number), row.product, status, detail or "")
    out.print(table)
    if failed:
        raise fail(f"{len(failed)} row(s) failed; fix them and run the same command again", 1)
