"""`veo31 deliver ID --preset tiktok --preset preview …`: a finished video made ready for channels, each file saved
(named after the product, the day and the preset) once it is made. Asking again for a preset that exists makes
nothing new: its file is saved again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from veo31.cli import app, fail, out
from veo31.cli.client import SETTLED, Client
from veo31.cli.generations import JsonOption, ServerOption, TokenOption, connect, run
from veo31.finishing.presets import PRESETS
from veo31.pipeline.deliverables import Finish


@app.command()
def deliver(
    generation_id: Annotated[str, typer.Argument(help="A finished generation's id, or its first characters.")],
    preset: Annotated[
        list[str], typer.Option("--preset", "-p", help=f"A channel preset (repeat the flag): {', '.join(PRESETS)}.")
    ],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where the files go.")] = Path("."),
    brand_kit: Annotated[
        str | None, typer.Option("--brand-kit", help="A brand kit's id (veo31 brand-kit list): logo, lines, end card.")
    ] = None,
    price: Annotated[str | None, typer.Option("--price", help="Shown with the brand kit, e.g. '€29'.")] = None,
    letterbox: Annotated[
        bool, typer.Option("--letterbox", help="Bars, not a backdrop extended from the picture, where it is short.")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the files and save them.")] = True,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Make a finished video ready for channels: reframed around the product, encoded for each preset."""
    unknown = [name for name in preset if name not in PRESETS]
    if unknown:
        raise fail(f"--preset {unknown[0]} is no preset; the presets are {', '.join(PRESETS)}", 2)
    if wait and not out_dir.is_dir():
        raise fail(f"--out-dir {out_dir} is not a folder", 2)
    if price and not brand_kit:
        raise fail("--price is shown with a brand kit: add --brand-kit ID", 2)

    async def work() -> list[dict[str, Any]]:
        async with connect(server, token, worker=wait, quiet=as_json) as client:
            made = await client.deliver(generation_id, preset, Finish(brand_kit, price, letterbox))
            if not wait:
                return made
            return list(await asyncio.gather(*(saved(client, item["id"], out_dir) for item in made)))

    made = run(work)
    if as_json:
        print(json.dumps(made, indent=2, default=str))
    for item in made if not as_json else ():
        where = f" → {item['out']}" if item.get("out") else ""
        out.print(f"{item['id']} {item.get('preset') or ''} {item['status']}{where}", highlight=False, soft_wrap=True)
    if any(item["status"] in ("failed", "canceled") for item in made):
        raise typer.Exit(1)


async def saved(client: Client, deliverable_id: str, folder: Path) -> dict[str, Any]:
    """The deliverable once it settled, its file saved in `folder` when it was made."""
    generation: dict[str, Any] = {}
    async for generation in client.watch(deliverable_id):
        if generation["status"] in SETTLED:
            break
    if generation.get("status") == "completed":
        target = folder / generation["download_name"]
        await client.save_video(generation, target)
        generation = {**generation, "out": str(target)}
    return generation
