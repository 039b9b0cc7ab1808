"""`veo31 batch EXPORT`: a store's product export (Shopify, WooCommerce, Google Merchant Center) run as one batch on
the server (or in this process), followed with a live progress bar, its videos saved and its results written.

The batch's id is kept beside the export (`<EXPORT>.veo31-batch.json`, with a fingerprint of the file and the
options), so the same command after Ctrl-C or a crash follows the same batch instead of posting it again; and
posting it again would start nothing anyway — each product's generation is found by its sync key.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from veo31.cli import fail, out
from veo31.cli.client import download
from veo31.cli.session import Api, api_session
from veo31.domain import Status
from veo31.errors import NotFoundError

SETTLED = {status.value for status in Status if status.settled}
POLL_SECONDS = 1.0


def state_path(export: Path) -> Path:
    return export.with_name(export.name + ".veo31-batch.json")


def fingerprint(content: bytes, spec: dict[str, Any]) -> str:
    return hashlib.sha256(content + json.dumps(spec, sort_keys=True).encode()).hexdigest()


async def run_export(
    export: Path,
    content: bytes,
    spec: dict[str, Any],
    *,
    videos: Path | None,
    results: Path,
    retry_failed: bool,
    server: str | None,
    token: str | None,
) -> dict[str, Any]:
    """Post (or pick up) the batch, follow it to the end, save its videos and results; the batch as it ended."""
    async with api_session(server, token) as api:
        batch = await _resume(api, export, content, spec)
        if batch is None:
            files = {"file": (export.name, content, "application/octet-stream")}
            batch = await api.call("POST", "/v1/batches", files=files, data={k: str(v) for k, v in spec.items()})
            _remember(export, batch["id"], fingerprint(content, spec))
            out.print(f"Batch {batch['id']}: {batch['products']} products ({batch['format_label']})", highlight=False)
        else:
            out.print(f"Picking up batch {batch['id']} ({batch['products']} products)", highlight=False)
        if retry_failed and batch["counts"].get("failed", 0) + batch["counts"].get("canceled", 0):
            batch = await api.call("POST", f"/v1/batches/{batch['id']}/retry")
        batch = await follow(api, batch)
        rows = list(csv.DictReader(io.StringIO(await api.text(f"/v1/batches/{batch['id']}/results.csv"))))
        if videos is not None:
            await save_videos(api, rows, videos)
        write_results(results, rows)
    return batch


async def _resume(api: Api, export: Path, content: bytes, spec: dict[str, Any]) -> dict[str, Any] | None:
    """The batch this export was posted as before, when the file and options are unchanged and it still exists."""
    try:
        kept = json.loads(state_path(export).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if kept.get("fingerprint") != fingerprint(content, spec):
        return None
    try:
        return await api.call("GET", f"/v1/batches/{kept['batch_id']}")
    except NotFoundError:
        return None  # another data folder or server: post it here (its products are found by their keys)


def _remember(export: Path, batch_id: str, print_: str) -> None:
    path = state_path(export)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps({"batch_id": batch_id, "fingerprint": print_}), encoding="utf-8")
    scratch.replace(path)


async def follow(api: Api, batch: dict[str, Any]) -> dict[str, Any]:
    """A live progress bar until every product settled: how many are done, by status, and the cost so far."""
    columns = (TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[said]}"))
    with Progress(*columns, TimeElapsedColumn(), console=out) as progress:
        bar = progress.add_task("batch", total=batch["products"] or 1, said="")
        while True:
            counts = batch["counts"]
            done = sum(count for status, count in counts.items() if status in SETTLED)
            said = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
            said += f" · ${batch['spent_usd']:.2f} spent, ~${batch['estimated_to_finish_usd']:.2f} to go"
            progress.update(bar, completed=done, said=said)
            if batch["finished"]:
                return batch
            await asyncio.sleep(POLL_SECONDS)
            batch = await api.call("GET", f"/v1/batches/{batch['id']}")


async def save_videos(api: Api, rows: list[dict[str, Any]], videos: Path) -> None:
    """Each finished product's video in `videos` (which exists), named by its row and id; one there is kept."""
    for row in rows:
        if row["status"] != "completed" or not row["video_url"]:
            continue
        slug = re.sub(r"[^A-Za-z0-9]+", "-", row["product_id"]).strip("-").lower()[:60] or "product"
        target = videos / f"{int(row['row']):05d}-{slug}.mp4"
        row["path"] = str(target)
        if target.is_file():
            continue
        await download(api.http, row["video_url"], target, f"{row['product_id']}'s video")


def write_results(path: Path, rows: list[dict[str, Any]]) -> None:
    """The results, with where each video was saved (written whole: a crash never leaves half a file)."""
    columns = [*(rows[0].keys() if rows else ["row", "product_id", "status"]), "path"]
    columns = list(dict.fromkeys(columns))
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=".veo31-results-", suffix=".csv")
    with os.fdopen(handle, "w", newline="", encoding="utf-8") as sink:
        writer = csv.DictWriter(sink, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(scratch, path)


def report(batch: dict[str, Any], results: Path) -> None:
    counts = batch["counts"]
    table = Table(title=f"batch {batch['id']}: {batch['products']} products — {results}")
    table.add_column("status")
    table.add_column("products", justify="right")
    for status, count in sorted(counts.items()):
        table.add_row(status, str(count))
    out.print(table)
    for skipped in batch["skipped"]:
        out.print(f"row {skipped['row']} set aside: {skipped['reason']}", highlight=False)
    out.print(f"spent ${batch['spent_usd']:.2f}", highlight=False)
    failed = counts.get("failed", 0) + counts.get("canceled", 0)
    if failed:
        raise fail(f"{failed} product(s) failed (reasons in {results}); run the same command with --retry-failed", 1)
