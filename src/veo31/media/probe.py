"""What a video file really is, found by decoding it with PyAV (never by trusting its name or headers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from veo31.errors import InvalidMediaError
from veo31.media.poster import frame_image, save_poster


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration: float
    fps: float
    codec: str
    frames: int
    has_audio: bool

    @property
    def aspect_ratio(self) -> str:
        return "16:9" if self.width >= self.height else "9:16"


def probe_video(path: Path | str, *, decode_all: bool = True, poster: Path | None = None) -> VideoInfo:
    """Open and decode a video; refuse anything that is not a playable video stream.

    With `decode_all` every frame is decoded, which is what proves a file is whole; without it only the first
    frame is, which is enough to read its size and codec. With `poster`, the first frame is also saved there as
    a JPEG, from the same decode (a second pass for the poster cost as much as the whole check).
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidMediaError(f"{Path(path).name} has no video stream")
            stream = container.streams.video[0]
            # One thread per decode: FFmpeg's automatic slice threads start a pool for every file and cost more CPU
            # (docs/performance.md). A lone video decodes a little slower, but the media processes already use
            # every core: at scale CPU is the limit.
            stream.thread_type = "NONE"
            frames = 0
            last_time = 0.0
            for frame in container.decode(stream):
                if frames == 0 and poster is not None:
                    save_poster(frame_image(frame), poster)
                frames += 1
                if frame.time is not None:
                    last_time = max(last_time, float(frame.time))
                if not decode_all:
                    break
            if frames == 0:
                raise InvalidMediaError(f"{Path(path).name} has a video stream without a single frame")
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            duration = _duration(container, stream, frames, fps, last_time)
            return VideoInfo(
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                duration=duration,
                fps=fps,
                codec=stream.codec_context.name,
                frames=frames,
                has_audio=bool(container.streams.audio),
            )
    except av.FFmpegError as exc:
        raise InvalidMediaError(f"{Path(path).name} is not a playable video ({type(exc).__name__})") from None


def _duration(
    container: av.container.InputContainer, stream: av.VideoStream, frames: int, fps: float, last_time: float
) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return last_time + (1 / fps if fps else 0.0)
