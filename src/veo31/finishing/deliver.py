"""One deliverable written from a finished video: the product found in every frame (a first decode, small), the
window planned along it, then every frame cut and encoded for the preset — an MP4 (H.264 at the preset's profile,
its sound mixed to the preset's loudness as AAC, or none) or, for `preview`, a silent looping animated WebP. Cut to
the preset's length; runs wherever it is called (a media process, in the pipeline).

Still to come (issue 26): the brand kit's overlays and end card, a music bed."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from veo31.errors import InvalidMediaError
from veo31.finishing.presets import MB, Container, Preset
from veo31.finishing.reframe import Box, Window, cut, fill_gaps, find_product, jitter, plan
from veo31.media.encode import AUDIO_RATE, add_audio_stream, open_mp4_writer
from veo31.media.loudness import SILENCE_LUFS, measure
from veo31.media.probe import probe_video

# The limiter works on samples; the peaks between them, and AAC's own, land higher: aim under the ceiling.
LIMITER_HEADROOM_DB = 1.0


@dataclass(frozen=True)
class Delivered:
    width: int
    height: int
    frames: int
    seconds: float
    jitter_px: float  # the crop path's shake, output pixels per frame


def deliver(source: Path | str, preset: Preset, target: Path | str, seed: Box | None = None) -> Delivered:
    """Write `preset`'s deliverable of the video at `source` to `target`; `seed` is where the product is in its
    reference photo (the start of the path when the first frames show it poorly)."""
    boxes, fps, size = _track(source, preset)
    windows = plan(fill_gaps(boxes, seed), size, preset, fps)
    if preset.container is Container.WEBP:
        frames = _write_webp(source, preset, windows, fps, Path(target))
    else:
        frames = _write_mp4(source, preset, windows, fps, Path(target))
    return Delivered(preset.width, preset.height, frames, frames / (preset.fps or fps), jitter(windows, preset))


def deliver_verified(source: str, preset: Preset, target: str, seed: Box | None = None) -> dict[str, Any]:
    """`deliver`, then the file read back whole — every frame decoded, its size and the preset's file cap checked —
    and described as a generation's `video` is (a module-level call, for a media process)."""
    made = deliver(source, preset, target, seed)
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


def _track(source: Path | str, preset: Preset) -> tuple[list[Box | None], float, tuple[int, int]]:
    """The product's box in every frame the deliverable will hold, the source's rate and size."""
    try:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or 24)
            limit = int(preset.max_seconds * fps)
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


def _frames(source: Path | str, windows: list[Window], preset: Preset, step: int = 1) -> Iterator[np.ndarray]:
    """The source's frames (every `step`-th) cut along `windows`, one at a time."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if index >= len(windows):
                return
            if index % step == 0:
                yield cut(frame.to_ndarray(format="rgb24"), windows[index], preset.width, preset.height)


def _write_mp4(source: Path | str, preset: Preset, windows: list[Window], fps: float, target: Path) -> int:
    rate = Fraction(preset.fps) if preset.fps else Fraction(fps).limit_denominator(1001)
    step = max(1, round(fps / float(rate)))
    written = 0
    with open_mp4_writer(target) as container:
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = preset.width, preset.height, "yuv420p"
        video.options = {"crf": str(preset.crf), "profile": preset.profile, "preset": "veryfast"}
        audio = add_audio_stream(container) if preset.audio else None
        for picture in _frames(source, windows, preset, step):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = written
            container.mux(video.encode(frame))
            written += 1
        container.mux(video.encode(None))
        if audio is not None:
            _copy_audio(source, container, audio, written / float(rate), preset)
    return written


def _copy_audio(
    source: Path | str, container: av.container.OutputContainer, stream: av.AudioStream, seconds: float, preset: Preset
) -> None:
    """The source's sound mixed to the preset's loudness — one gain, measured first (EBU R128), so the sound keeps
    its dynamics, and a limiter under the true-peak ceiling — resampled to 48 kHz stereo, cut at `seconds`. A
    silent source stays silent; one without sound gets silence."""
    level = measure(source)
    gain = 0.0
    if level.integrated is not None and level.integrated > SILENCE_LUFS + 1:
        gain = max(-30.0, min(30.0, preset.loudness_lufs - level.integrated))
    limit = 10 ** ((preset.true_peak_db - LIMITER_HEADROOM_DB) / 20)
    limit_samples = int(seconds * AUDIO_RATE)
    written = 0
    with av.open(str(source)) as reader:
        if reader.streams.audio:
            graph: av.filter.Graph | None = None
            for frame in reader.decode(reader.streams.audio[0]):
                graph = graph or _mix_graph(frame, gain, limit)
                frame.pts = None
                graph.push(frame)
                written = _mux_pulled(graph, container, stream, written, limit_samples)
            if graph is not None:
                graph.push(None)
                written = _mux_pulled(graph, container, stream, written, limit_samples)
    if written < limit_samples:  # no sound, or less than the picture: silence to the end
        silence = np.zeros((2, limit_samples - written), dtype=np.float32)
        tail = av.AudioFrame.from_ndarray(silence, format="fltp", layout="stereo")
        tail.sample_rate, tail.pts = AUDIO_RATE, written
        container.mux(stream.encode(tail))
    container.mux(stream.encode(None))


def _mix_graph(frame: av.AudioFrame, gain_db: float, limit: float) -> av.filter.Graph:
    graph = av.filter.Graph()
    source = graph.add_abuffer(
        format=frame.format.name,
        sample_rate=frame.sample_rate,
        layout=frame.layout.name,
        time_base=Fraction(1, frame.sample_rate),
    )
    chain = [
        source,
        graph.add("volume", f"volume={gain_db:.2f}dB"),
        graph.add("aresample", f"{AUDIO_RATE}"),
        graph.add("alimiter", f"limit={limit:.4f}:attack=1:release=50:level=disabled"),
        graph.add("aformat", "sample_fmts=fltp:channel_layouts=stereo"),
        graph.add("abuffersink"),
    ]
    for left, right in zip(chain, chain[1:], strict=False):
        left.link_to(right)
    graph.configure()
    return graph


def _mux_pulled(
    graph: av.filter.Graph, container: av.container.OutputContainer, stream: av.AudioStream, written: int, limit: int
) -> int:
    while True:
        try:
            chunk = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return written
        if written >= limit:
            continue
        if written + chunk.samples > limit:  # the last chunk, cut where the picture ends
            kept = chunk.to_ndarray()[:, : limit - written]
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(kept), format="fltp", layout="stereo")
            chunk.sample_rate = AUDIO_RATE
        chunk.pts = written
        written += chunk.samples
        container.mux(stream.encode(chunk))


def _write_webp(source: Path | str, preset: Preset, windows: list[Window], fps: float, target: Path) -> int:
    """A looping animated WebP at the preset's rate, its quality lowered until it fits the preset's size cap."""
    rate = preset.fps or 12
    step = max(1, round(fps / rate))
    pictures = [Image.fromarray(picture) for picture in _frames(source, windows, preset, step)]
    for quality in (80, 65, 50, 35):
        buffer = io.BytesIO()
        pictures[0].save(
            buffer,
            "WEBP",
            save_all=True,
            append_images=pictures[1:],
            duration=round(1000 / rate),
            loop=0,
            quality=quality,
            method=4,
        )
        if buffer.tell() <= preset.max_bytes:
            break
    target.write_bytes(buffer.getvalue())
    return len(pictures)
