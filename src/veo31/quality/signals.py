"""What one decode of a clip gives the checks: its real size, rate and length, a small grey picture of every frame
(black, frozen, flicker, bars), colour stills a few times a second (the product), and the audio's integrated
loudness (EBU R128, by FFmpeg's `ebur128` filter).

Every frame is decoded once, on one thread (like `media.probe`): the checks must cost little beside the video's own
decoding, and the media processes already use every core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from veo31.errors import InvalidMediaError
from veo31.media.loudness import measure

THUMB_WIDTH = 160  # grey pictures this wide: enough for bars and changes, cheap to compare
STILL_WIDTH = 480  # colour stills this wide: enough to find a product and read a label


@dataclass
class ClipSignals:
    width: int
    height: int
    fps: float
    duration: float
    codec: str
    times: np.ndarray  # each decoded frame's time, seconds
    luma: np.ndarray  # (frames, h, w) uint8: every frame, grey, THUMB_WIDTH wide
    stills: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (time, RGB STILL_WIDTH wide)
    has_audio: bool = False
    loudness: float | None = None  # integrated, LUFS; None without an audio track

    @property
    def frames(self) -> int:
        return len(self.times)


def read_clip(path: Path | str, *, max_seconds: float, still_every: float = 0.5) -> ClipSignals:
    """Decode the clip once; refuse one that is not a video, has no frame, or runs longer than `max_seconds`."""
    name = Path(path).name
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidMediaError(f"{name} has no video stream")
            if container.format.name == "image2" or container.format.name.endswith("_pipe"):
                raise InvalidMediaError(f"{name} is a picture, not a video")
            if container.duration is not None and container.duration / 1_000_000 > max_seconds:
                raise InvalidMediaError(f"{name} runs longer than {max_seconds:g} s; check a shorter clip")
            signals = _read_video(container, name, max_seconds, still_every)
        measured = measure(path)
        signals.has_audio, signals.loudness = measured.has_audio, measured.integrated
    except av.FFmpegError as exc:
        raise InvalidMediaError(f"{name} is not a playable video ({type(exc).__name__})") from None
    return signals


def _read_video(
    container: av.container.InputContainer, name: str, max_seconds: float, still_every: float
) -> ClipSignals:
    stream = container.streams.video[0]
    stream.thread_type = "NONE"
    width, height = stream.codec_context.width, stream.codec_context.height
    if not width or not height:
        raise InvalidMediaError(f"{name} has a video stream of no size")
    thumb = (THUMB_WIDTH, max(2, round(THUMB_WIDTH * height / width / 2) * 2))
    still = (STILL_WIDTH, max(2, round(STILL_WIDTH * height / width / 2) * 2))
    times: list[float] = []
    luma: list[np.ndarray] = []
    stills: list[tuple[float, np.ndarray]] = []
    next_still = 0.0
    for frame in container.decode(stream):
        at = float(frame.time) if frame.time is not None else len(times) / float(stream.average_rate or 24)
        if at > max_seconds:
            raise InvalidMediaError(f"{name} runs longer than {max_seconds:g} s; check a shorter clip")
        times.append(at)
        luma.append(frame.reformat(width=thumb[0], height=thumb[1], format="gray").to_ndarray())
        if at >= next_still:
            stills.append((at, frame.reformat(width=still[0], height=still[1], format="rgb24").to_ndarray()))
            next_still = at + still_every
    if len(times) < 2:
        raise InvalidMediaError(f"{name} has fewer than two frames: a picture, not a video")
    fps = float(stream.average_rate or stream.guessed_rate or 0)
    return ClipSignals(
        width=width,
        height=height,
        fps=fps,
        duration=_duration(container, stream, times, fps),
        codec=stream.codec_context.name,
        times=np.array(times),
        luma=np.stack(luma),
        stills=stills,
    )


def _duration(container: av.container.InputContainer, stream: av.VideoStream, times: list[float], fps: float) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return max(times) + (1 / fps if fps else 0.0)
