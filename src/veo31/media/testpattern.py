"""A moving test pattern as a real H.264 MP4 with an AAC track: what the emulators return as a "generated" video.

Every frame differs from the one before (bars slide, a marker sweeps), so players, probes and tests can tell
that it really plays. The file is written to a temporary name and moved into place, never left half-written.
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from veo31.media.encode import add_audio_stream, open_mp4_writer, write_silence

_BAR_COLOURS = np.array(
    [[235, 235, 235], [235, 235, 16], [16, 235, 235], [16, 235, 16], [235, 16, 235], [235, 16, 16], [16, 16, 235]],
    dtype=np.uint8,
)


def test_pattern_frame(width: int, height: int, index: int, fps: int) -> np.ndarray:
    """One RGB frame: sliding colour bars with a white marker that crosses the frame once per second."""
    shift = (index * max(2, width // 160)) % width
    columns = ((np.arange(width) + shift) * len(_BAR_COLOURS) // width) % len(_BAR_COLOURS)
    frame = np.broadcast_to(_BAR_COLOURS[columns][None, :, :], (height, width, 3)).copy()
    band = slice(height * 3 // 4, height * 3 // 4 + max(4, height // 18))
    frame[band] = 24
    marker = int((index % fps) / fps * (width - width // 20))
    frame[band, marker : marker + width // 20] = 250
    return frame


def render_test_pattern(path: Path | str, *, width: int, height: int, seconds: float, fps: int = 24) -> Path:
    """Write a `seconds`-long test-pattern MP4 of `width`×`height` to `path` (atomically)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(suffix=".mp4", dir=target.parent, prefix=".partial-")
    os.close(fd)
    try:
        frames = max(1, round(seconds * fps))
        with open_mp4_writer(temp_name) as container:
            video = container.add_stream("libx264", rate=Fraction(fps))
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.options = {"preset": "ultrafast", "crf": "30"}
            audio = add_audio_stream(container)
            for index in range(frames):
                frame = av.VideoFrame.from_ndarray(test_pattern_frame(width, height, index, fps), format="rgb24")
                container.mux(video.encode(frame))
            container.mux(video.encode(None))
            write_silence(container, audio, frames / fps)
        os.replace(temp_name, target)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
    return target
