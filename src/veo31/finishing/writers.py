"""Where a deliverable's frames go, one at a time as they are cut: an MP4 (H.264 at the preset's profile and
quality; its sound made by `finishing.audio` and written as AAC afterwards, or none) or a looping animated WebP. Several
writers take the frames of one decode, so a video made for four channels is decoded once."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

from PIL import Image

from veo31.finishing.audio import Soundtrack, encoded
from veo31.finishing.presets import Container, Preset
from veo31.media.encode import AUDIO_RATE, add_audio_stream, open_mp4_writer
from veo31.media.planes import ColourSpace, Planes, frame_of

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

    def close(self, sound: Soundtrack) -> int:
        """Finish the file (an MP4 takes its sound from `sound`)."""
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

    def close(self, sound: Soundtrack) -> int:
        with self.container:
            self.container.mux(self.video.encode(None))
            if self.audio is not None:
                samples = round(self.written / float(self.rate) * AUDIO_RATE)
                encoded(sound.for_preset(samples, self.preset), self.container, self.audio)
        return self.written


class WebpWriter(Writer):
    def __init__(self, preset: Preset, target: Path, source_fps: float, frames: int, space: ColourSpace) -> None:
        super().__init__(preset, target, source_fps, frames, space)
        self.pictures: list[Image.Image] = []  # small (a preview is a few hundred pixels, a few seconds)

    def take(self, planes: Planes) -> None:
        self.pictures.append(Image.fromarray(self.space.rgb(planes)))
        self.written += 1

    def close(self, sound: Soundtrack) -> int:
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
