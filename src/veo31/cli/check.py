"""`veo31 check VIDEO --reference PHOTO …`: the quality report on a clip made anywhere, in this process, storing
nothing. Exit 0 when it passed, 1 when a check failed, 2 for input it cannot check (named by its flag)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from veo31.cli import _first_error, _read, app, fail, out, settings_or_exit
from veo31.errors import InputError
from veo31.quality.gate import MAX_VIDEO_BYTES, CheckRequest, check_references, check_video, limits_from
from veo31.quality.judge import judge, sample_frames
from veo31.quality.report import QualityReport

# The request's field names, as this command's flags say them.
FLAGS = {"images": "--reference", "video": "VIDEO", "duration": "--duration", "resolution": "--resolution"}


@app.command()
def check(
    video: Annotated[Path, typer.Argument(help="The clip to check (MP4, WebM, MOV).")],
    reference: Annotated[
        list[Path], typer.Option("--reference", "-r", help="A photo of the product (1–3, repeat the flag).")
    ],
    duration: Annotated[float | None, typer.Option(help="Seconds it was asked to last.")] = None,
    resolution: Annotated[str | None, typer.Option(help="720p, 1080p, 4k or WxH, as asked.")] = None,
    aspect: Annotated[str | None, typer.Option(help="16:9 or 9:16, as asked.")] = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second, as asked.")] = None,
    audio: Annotated[bool | None, typer.Option("--audio/--no-audio", help="Whether sound was asked for.")] = None,
    mode: Annotated[str | None, typer.Option(help="text, first_frame, first_last or reference.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (the API's `quality`).")] = False,
    frame: Annotated[
        Path | None, typer.Option(help="Write the photo beside the clip's worst frame to this JPEG file.")
    ] = None,
) -> None:
    """Check a video against the product's photos: length, size, sound, black, frozen, flicker, bars."""
    try:
        asked = CheckRequest(
            duration=duration,
            resolution=resolution,
            aspect=aspect,
            fps=fps,
            audio=audio,
            mode=mode,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        raise fail(_first_error(exc), 2) from None
    if not video.is_file():
        raise fail(f"VIDEO {video} is not a file", 2)
    if video.stat().st_size > MAX_VIDEO_BYTES:
        raise fail(f"VIDEO {video} is larger than {MAX_VIDEO_BYTES // (1024 * 1024)} MB", 2)
    try:
        settings = settings_or_exit()
        limits = limits_from(settings.quality_thresholds)
        references = check_references([_read(path) for path in reference])
        report = check_video(str(video), asked, references, limits)
        if settings.llm_base_url:  # a vision model is configured: its verdict, beside the local checks
            frames = sample_frames(video)
            report = report.with_check(asyncio.run(judge(settings, references, frames)))
    except InputError as exc:  # a photo that is none, a file that is no video: said by the flag that brought it
        raise fail(f"{FLAGS.get(exc.field or 'video', 'VIDEO')}: {exc.message}", 2) from None
    if frame is not None and report.frame:
        frame.write_bytes(base64.b64decode(report.frame.split(",", 1)[1]))
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        show(report)
    if not report.passed:
        raise typer.Exit(1)


def show(report: QualityReport) -> None:
    table = Table(title=f"{'passed' if report.passed else 'FAILED'} — score {report.score:.2f}", show_lines=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("where")
    for item in report.checks:
        where = f"{item.at_seconds[0]:.1f}–{item.at_seconds[1]:.1f} s" if item.at_seconds else ""
        verdict = "[green]ok[/]" if item.passed else "[red]failed[/]"
        table.add_row(item.kind.value, f"{verdict} {item.message}", where)
    out.print(table)
