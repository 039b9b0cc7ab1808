"""Where a deliverable's frames go, one at a time as they are cut: an MP4 (H.264 at the preset's profile and
quality; its sound mixed to the preset's loudness as AAC afterwards, or none) or a looping animated WebP. Several
writers take the frames of one decode, so a video made for four channels is decoded once."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from veo31.finishing.presets import Container, Preset
from veo31.media.encode import AUDIO_RATE, add_audio_stream, open_mp4_writer
from veo31.media.loudness import SILENCE_LUFS, measure
from veo31.media.planes import ColourSpace, Planes, frame_of

# The limiter works on samples; the peaks between them, and AAC's own, land higher: aim under the ceiling.
LIMITER_HEADROOM_DB = 1.0
WEBP_QUALITIES = (80, 65, 50, 35)  # lowered until the preview fits its preset's cap
# Several encoders run side by side (one per preset), each a few frames in flight: bounded, their frame buffers
# stay within a media process's memory, and together they still keep both cores busy.
ENCODER_THREADS = 2


class Writer:
    """Takes the source's frames in order (`wants` says which), cut to the preset; `close` finishes the file."""

    def __init__(self, preset: Preset, target: Path, source_fps: float, frames: int, space: ColourSpace) -> None:
        self.preset, self.target, self.frames, self.space = preset, target, frames, space
        self.rate = Fraction(preset.fps) if preset.fps else Fraction(source_fps).limit_denominator(1001)
        self.step = max(1, round(source_fps / float(self.rate)))
        self.written = 0

    @property
    def output_frames(self) -> int:
        """How many frames the file will hold."""
        return -(-self.frames // self.step)

    def wants(self, index: int) -> bool:
        return index < self.frames and index % self.step == 0

    def take(self, planes: Planes) -> None:
        raise NotImplementedError

    def close(self, source: Path | str) -> int:
        raise NotImplementedError


class Mp4Writer(Writer):
    def __init__(self, preset: Preset, target: Path, source_fps: float, frames: int, space: ColourSpace) -> None:
        super().__init__(preset, target, source_fps, frames, space)
        self.container = open_mp4_writer(target)
        self.video = self.container.add_stream("libx264", rate=self.rate)
        self.video.width, self.video.height, self.video.pix_fmt = preset.width, preset.height, "yuv420p"
        self.video.codec_context.thread_count = ENCODER_THREADS
        self.video.options = {
            "crf": str(preset.crf),
            "profile": preset.profile,
            "preset": "veryfast",
        }
        space.tag(self.video.codec_context)
        self.audio = add_audio_stream(self.container) if preset.audio else None

    def take(self, planes: Planes) -> None:
        frame = frame_of(planes)
        frame.pts = self.written
        self.container.mux(self.video.encode(frame))
        self.written += 1

    def close(self, source: Path | str) -> int:
        with self.container:
            self.container.mux(self.video.encode(None))
            if self.audio is not None:
                mix_audio(source, self.container, self.audio, self.written / float(self.rate), self.preset)
        return self.written


class WebpWriter(Writer):
    def __init__(self, preset: Preset, target: Path, source_fps: float, frames: int, space: ColourSpace) -> None:
        super().__init__(preset, target, source_fps, frames, space)
        self.pictures: list[Image.Image] = []  # small (a preview is a few hundred pixels, a few seconds)

    def take(self, planes: Planes) -> None:
        self.pictures.append(Image.fromarray(self.space.rgb(planes)))
        self.written += 1

    def close(self, source: Path | str) -> int:
        first, *rest = self.pictures
        buffer = io.BytesIO()
        for quality in WEBP_QUALITIES:
            buffer = io.BytesIO()
            first.save(
                buffer,
                "WEBP",
                save_all=True,
                append_images=rest,
                duration=round(1000 / float(self.rate)),
                loop=0,
                quality=quality,
                method=4,
            )
            if buffer.tell() <= self.preset.max_bytes:
                break
        self.target.write_bytes(buffer.getvalue())
        return self.written


def writer_for(preset: Preset, target: Path, source_fps: float, frames: int, space: ColourSpace) -> Writer:
    kind = WebpWriter if preset.container is Container.WEBP else Mp4Writer
    return kind(preset, target, source_fps, frames, space)


def mix_audio(
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
