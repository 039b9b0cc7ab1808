"""Deliverables written from a finished video: the product found in every frame (a first decode), a window planned
along it per preset, then every frame decoded once and cut and encoded for each preset (`finishing.writers`) — an
MP4 with its sound mixed to the preset's loudness, or a looping animated WebP — cut to the preset's length. Runs
wherever it is called (a media process, in the pipeline).

Still to come (issue 26): the brand kit's overlays and end card, a music bed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from PIL import Image

from veo31.errors import InvalidMediaError
from veo31.finishing.overlay import Branding, Overlay
from veo31.finishing.presets import MB, Container, Preset
from veo31.finishing.reframe import Box, cut, fill_gaps, find_product, jitter, plan
from veo31.finishing.writers import writer_for
from veo31.media.loudness import measure
from veo31.media.probe import probe_video


@dataclass(frozen=True)
class Delivered:
    width: int
    height: int
    frames: int
    seconds: float
    jitter_px: float  # the crop path's shake, output pixels per frame


def deliver(
    source: Path | str,
    preset: Preset,
    target: Path | str,
    seed: Box | None = None,
    branding: Branding | None = None,
) -> Delivered:
    """Write `preset`'s deliverable of the video at `source` to `target`; `seed` is where the product is in its
    reference photo (the start of the path when the first frames show it poorly); `branding`, the kit drawn on it."""
    return deliver_many(source, [(preset, target)], seed, branding)[0]


def deliver_many(
    source: Path | str,
    jobs: Sequence[tuple[Preset, Path | str]],
    seed: Box | None = None,
    branding: Branding | None = None,
) -> list[Delivered]:
    """Several presets' deliverables of one video: the product tracked once, then every frame decoded once and
    cut, branded (not the looping preview) and encoded for each preset in turn."""
    longest = max(preset.max_seconds for preset, _ in jobs)
    boxes, fps, size = _track(source, longest)
    plans = []
    for preset, _ in jobs:
        frames = boxes[: int(preset.max_seconds * fps)]
        plans.append(plan(fill_gaps(frames, seed), size, preset, fps, len(frames)))
    writers = [
        writer_for(preset, Path(target), fps, len(windows))
        for (preset, target), windows in zip(jobs, plans, strict=True)
    ]
    overlays = [
        Overlay(branding, writer.preset, writer.output_frames, float(writer.rate))
        if branding is not None and writer.preset.container is Container.MP4
        else None
        for writer in writers
    ]
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if index >= len(boxes):
                break
            picture = frame.to_ndarray(format="rgb24")
            for writer, windows, overlay in zip(writers, plans, overlays, strict=True):
                if writer.wants(index):
                    made_frame = cut(picture, windows[index], writer.preset.width, writer.preset.height)
                    writer.take(overlay.apply(made_frame, writer.written) if overlay else made_frame)
    made = []
    for writer, windows in zip(writers, plans, strict=True):
        frames = writer.close(source)
        made.append(
            Delivered(
                writer.preset.width,
                writer.preset.height,
                frames,
                frames / float(writer.rate),
                jitter(windows, writer.preset),
            )
        )
    return made


def deliver_verified(
    source: str, preset: Preset, target: str, seed: Box | None = None, branding: Branding | None = None
) -> dict[str, Any]:
    """`deliver`, then the file read back whole — every frame decoded, its size and the preset's file cap checked —
    and described as a generation's `video` is (a module-level call, for a media process)."""
    made = deliver(source, preset, target, seed, branding)
    size = os.path.getsize(target)
    if preset.container is Container.WEBP:
        with Image.open(target) as image:
            frames = getattr(image, "n_frames", 1)
            for index in range(frames):
                image.seek(index)
                image.load()
            info = {"width": image.width, "height": image.height, "codec": "webp", "has_audio": False}
        info.update(duration=round(frames / (preset.fps or 12), 3), fps=preset.fps, frames=frames)
    else:
        probed = probe_video(target)
        level = measure(target)
        info = {
            "width": probed.width,
            "height": probed.height,
            "duration": round(probed.duration, 3),
            "fps": probed.fps,
            "codec": probed.codec,
            "has_audio": probed.has_audio,
            "frames": probed.frames,
            "loudness_lufs": level.integrated,
            "true_peak_db": level.true_peak,
        }
    if (info["width"], info["height"]) != (preset.width, preset.height):
        raise InvalidMediaError(f"the {preset.label} file came out {info['width']}×{info['height']}")
    if size > preset.max_bytes:
        raise InvalidMediaError(f"the {preset.label} file is {size / MB:.1f} MB, over its {preset.max_bytes / MB:g} MB")
    return {**info, "bytes": size, "jitter_px": round(made.jitter_px, 4)}


def _track(source: Path | str, seconds: float) -> tuple[list[Box | None], float, tuple[int, int]]:
    """The product's box in every frame of the first `seconds`, the source's rate and size."""
    try:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or 24)
            limit = int(seconds * fps)
            size = (stream.codec_context.width, stream.codec_context.height)
            boxes = []
            for frame in container.decode(stream):
                if len(boxes) >= limit:
                    break
                boxes.append(find_product(frame.to_ndarray(format="rgb24")))
    except (av.FFmpegError, IndexError) as error:
        raise InvalidMediaError(f"the video cannot be read: {error}") from None
    if not boxes:
        raise InvalidMediaError("the video has no frames")
    return boxes, fps, size
