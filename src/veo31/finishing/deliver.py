"""Deliverables written from a finished video: the product found through the clip (a first decode), a window planned
along it per preset, then the frames decoded as YUV planes and cut, branded (`finishing.overlay`) and encoded for
each preset (`finishing.writers`) — an MP4 with its sound mixed to the preset's loudness, or a looping animated
WebP — cut to the preset's length. Runs wherever it is called (a media process, in the pipeline)."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from PIL import Image

from veo31.errors import InvalidMediaError
from veo31.finishing.audio import Soundtrack
from veo31.finishing.finder import Appearance, Box, find_product
from veo31.finishing.overlay import Branding, Overlay
from veo31.finishing.presets import MB, Container, Preset
from veo31.finishing.reframe import Window, cut, fill_gaps, in_frame, jitter, plan
from veo31.finishing.writers import Writer, writer_for
from veo31.media.loudness import measure
from veo31.media.planes import ColourSpace, planes_of
from veo31.media.probe import probe_video
from veo31.media.render import load_photo
from veo31.media.subject import SIDE

ENCODER_PIXELS = 4_200_000  # two 1080×1920 encoders at once
TRACK_EVERY = 2  # a product moves little in a 12th of a second; the path is smoothed over half a second anyway


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
    appearance: Appearance | None = None,
    branding: Branding | None = None,
    letterbox: bool = False,
) -> Delivered:
    """Write `preset`'s deliverable of the video at `source` to `target`; `appearance` is the product as its reference
    photo shows it (what is looked for in the frames); `branding`, the kit drawn on it; `letterbox`, bars where the
    picture falls short of the preset's shape."""
    return deliver_many(source, [(preset, target)], appearance, branding, letterbox)[0]


def deliver_many(
    source: Path | str,
    jobs: Sequence[tuple[Preset, Path | str]],
    appearance: Appearance | None = None,
    branding: Branding | None = None,
    letterbox: bool = False,
) -> list[Delivered]:
    """Several presets' deliverables of one video: the product tracked once, then the frames decoded once per round
    of encoders (`rounds`) and cut, branded (not the looping preview) and encoded for each preset of the round."""
    longest = max(preset.max_seconds for preset, _ in jobs)
    boxes, fps, size, space = _track(source, longest, appearance)
    seed = appearance.box if appearance is not None else None  # where the path starts if the first frames miss it
    plans, products = [], []
    for preset, _ in jobs:
        frames = boxes[: int(preset.max_seconds * fps)]
        filled = fill_gaps(frames, seed)
        plans.append(plan(filled, size, preset, fps, len(frames)))
        products.append(in_frame(filled, plans[-1], size, preset.width))
    made: dict[int, Delivered] = {}
    sound = Soundtrack(source, branding.music if branding else None)  # read and mixed once for every preset
    for round_ in rounds([preset for preset, _ in jobs]):
        writers = {
            number: writer_for(jobs[number][0], Path(jobs[number][1]), fps, len(plans[number]), space)
            for number in round_
        }
        _encode_round(source, writers, (plans, products), branding, space, letterbox)
        made.update(_closed(sound, writers, plans))
        del writers
        # PyAV's containers and streams refer to each other: only the collector frees a round's encoders, and they
        # must be gone before the next round's are made.
        gc.collect()
    return [made[number] for number in range(len(jobs))]


def _closed(sound: Soundtrack, writers: dict[int, Writer], plans: Sequence[Sequence[Window]]) -> dict[int, Delivered]:
    """The round's files finished (their sound mixed in, with the kit's music under it) and described."""
    made = {}
    for number, writer in writers.items():
        frames = writer.close(sound)
        made[number] = Delivered(
            writer.preset.width,
            writer.preset.height,
            frames,
            frames / float(writer.rate),
            jitter(plans[number], writer.preset),
        )
    return made


def rounds(presets: Sequence[Preset]) -> list[list[int]]:
    """The presets (by position) split into rounds whose encoders together hold at most ENCODER_PIXELS per frame:
    an H.264 encoder keeps a few dozen frames in flight, so four full-HD ones at once would take most of a media
    process's memory; each round decodes the source again, which costs far less than an encode."""
    made: list[list[int]] = [[]]
    held = 0
    for number, preset in enumerate(presets):
        pixels = preset.width * preset.height
        if made[-1] and held + pixels > ENCODER_PIXELS:
            made.append([])
            held = 0
        made[-1].append(number)
        held += pixels
    return made


def _encode_round(
    source: Path | str,
    writers: dict[int, Writer],
    paths: tuple[Sequence[Sequence[Window]], Sequence[Sequence[tuple[float, float, float, float]]]],
    branding: Branding | None,
    space: ColourSpace,
    letterbox: bool,
) -> None:
    """Every frame the round's writers want, decoded once, cut and (but for the looping preview) branded; `paths`,
    each preset's windows and where the product is in its frames."""
    plans, products = paths
    overlays = {
        number: Overlay(
            branding, writer.preset, writer.output_frames, float(writer.rate), space, products[number][:: writer.step]
        )
        for number, writer in writers.items()
        if branding is not None and writer.preset.container is Container.MP4
    }
    last = max(writer.frames for writer in writers.values())
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"  # frame threads would each hold a set of full-size frames
        for index, frame in enumerate(container.decode(stream)):
            if index >= last:
                break
            planes = planes_of(frame)
            for number, writer in writers.items():
                if writer.wants(index):
                    made_frame = cut(planes, plans[number][index], writer.preset.width, writer.preset.height, letterbox)
                    overlay = overlays.get(number)
                    writer.take(overlay.apply(made_frame, writer.written) if overlay else made_frame)


def deliver_verified(
    source: str,
    preset: Preset,
    target: str,
    reference: bytes | None = None,
    branding: Branding | None = None,
    letterbox: bool = False,
) -> dict[str, Any]:
    """`deliver` (`reference`: the product's photo, stored as it was given), then the file read back whole — every
    frame decoded, its size and the preset's file cap checked — and described as a generation's `video` is (a
    module-level call, for a media process)."""
    appearance = Appearance.of(load_photo(reference)) if reference else None
    made = deliver(source, preset, target, appearance, branding, letterbox)
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


def _track(
    source: Path | str, seconds: float, appearance: Appearance | None
) -> tuple[list[Box | None], float, tuple[int, int], ColourSpace]:
    """The product's box in the frames of the first `seconds` (looked for in every TRACK_EVERY-th, on a small copy;
    the others hold the last find), the source's rate, size and colour space."""
    try:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "SLICE"
            fps = float(stream.average_rate or 24)
            limit = int(seconds * fps)
            width, height = stream.codec_context.width, stream.codec_context.height
            small = (SIDE, max(2, round(height * SIDE / max(width, 1))))
            boxes: list[Box | None] = []
            space = ColourSpace()
            for index, frame in enumerate(container.decode(stream)):
                if index >= limit:
                    break
                if index == 0:
                    space = ColourSpace.of(frame)
                found = None
                if index % TRACK_EVERY == 0:
                    found = find_product(frame.to_ndarray(format="rgb24", width=small[0], height=small[1]), appearance)
                boxes.append(found)
    except (av.FFmpegError, IndexError) as error:
        raise InvalidMediaError(f"the video cannot be read: {error}") from None
    if not boxes:
        raise InvalidMediaError("the video has no frames")
    return boxes, fps, (width, height), space
