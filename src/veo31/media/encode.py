"""Shared MP4 writing: a fast-start container and an AAC track, as players and provider-like outputs expect."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

AUDIO_RATE = 48_000
_AUDIO_CHUNK = 1024


def open_mp4_writer(path: Path | str) -> av.container.OutputContainer:
    """An MP4 container whose index is moved to the front when it closes, so playback starts at once."""
    return av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})


def add_audio_stream(container: av.container.OutputContainer) -> av.AudioStream:
    """A stereo AAC stream; add it with the video stream, before anything is written."""
    return container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")


def write_silence(container: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    """Fill `stream` with `seconds` of silence (every Veo output carries audio; so do ours)."""
    total = int(seconds * AUDIO_RATE)
    silence = np.zeros((2, _AUDIO_CHUNK), dtype=np.float32)
    for start in range(0, total, _AUDIO_CHUNK):
        frame = av.AudioFrame.from_ndarray(silence, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
