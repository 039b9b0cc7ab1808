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


def audio_bed_frames(seconds: float, *, quiet: bool = False) -> list[av.AudioFrame]:
    """`seconds` of stereo audio as AAC-sized frames: a soft, slowly breathing major-seventh pad about 30 dB below
    full scale, faded in and out (or silence when `quiet`)."""
    total = int(seconds * AUDIO_RATE)
    frames = []
    for start in range(0, total, _AUDIO_CHUNK):
        count = min(_AUDIO_CHUNK, total - start)
        samples = np.zeros((2, _AUDIO_CHUNK), dtype=np.float32)
        if not quiet:
            samples[:, :count] = _pad(start, count, total)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frames.append(frame)
    return frames


_CHORD_HZ = (130.81, 164.81, 196.00, 246.94)  # C3 E3 G3 B3


def _pad(start: int, count: int, total: int) -> np.ndarray:
    t = (start + np.arange(count, dtype=np.float64)) / AUDIO_RATE
    tone = sum(np.sin(2 * np.pi * hz * t + phase) for phase, hz in enumerate(_CHORD_HZ)) / len(_CHORD_HZ)
    breathing = 0.75 + 0.25 * np.sin(2 * np.pi * 0.2 * t)
    edge = min(AUDIO_RATE, total // 4)
    position = start + np.arange(count)
    envelope = np.clip(np.minimum(position, total - position) / max(1, edge), 0, 1)
    mono = (0.03 * tone * breathing * envelope).astype(np.float32)
    return np.stack([mono, np.roll(mono, 240)])  # a 5 ms offset between the ears widens it a little
