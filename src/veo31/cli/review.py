"""`veo31 approve ID` and `veo31 reject ID`: a person's verdict on a video the quality gate held (`needs_review`).
Approved, it is completed; rejected, it fails with the reason given, its video kept."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from veo31.cli import app, fail, out
from veo31.cli.generations import JsonOption, ServerOption, TokenOption, connect, run

IdArgument = Annotated[str, typer.Argument(help="The id of a generation that needs review, or its first characters.")]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why, for the history (at most 500 characters).")]


@app.command()
def approve(
    generation_id: IdArgument,
    note: NoteOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Approve a video the quality gate held: the generation is completed."""
    decide(generation_id, "approve", note, as_json, server, token)


@app.command()
def reject(
    generation_id: IdArgument,
    note: NoteOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Reject a video the quality gate held: the generation fails with your note (its video is kept; retry it)."""
    decide(generation_id, "reject", note, as_json, server, token)


def decide(
    generation_id: str, verdict: str, note: str | None, as_json: bool, server: str | None, token: str | None
) -> None:
    if note is not None and len(note) > 500:
        raise fail("--note is longer than 500 characters", 2)

    async def work() -> dict[str, Any]:
        async with connect(server, token, worker=False, quiet=as_json) as client:
            return await client.review(generation_id, verdict, note)

    generation = run(work)
    if as_json:
        print(json.dumps(generation, indent=2, default=str))
    else:
        out.print(f"{generation['id']} {generation['status']}", highlight=False)
