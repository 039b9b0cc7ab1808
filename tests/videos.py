"""Short videos with a known camera move, made for tests (a textured plane filmed by a moving virtual camera)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

TEXTURE = cv2.normalize(
    cv2.GaussianBlur(np.random.default_rng(1).integers(0, 255, (900, 1600, 3), dtype=np.uint8), (0, 0), 3),
    None,
    0,
    255,
    cv2.NORM_MINMAX,
)


def write_video(path: Path, frames: list[np.ndarray], fps: int = 24) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode(None))
    return path


def view(x: int, y: int, width: int = 640) -> np.ndarray:
    height = width * 9 // 16
    return cv2.resize(TEXTURE[y : y + height, x : x + width], (320, 180), interpolation=cv2.INTER_AREA)


def zoomed(scale: float) -> np.ndarray:
    width = int(900 * scale)
    height = width * 9 // 16
    top, left = 450 - height // 2, 800 - width // 2
    return cv2.resize(TEXTURE[top : top + height, left : left + width], (320, 180), interpolation=cv2.INTER_AREA)


MOVES = {
    "pan right": [view(200 + 4 * i, 200) for i in range(72)],
    "pan left": [view(700 - 4 * i, 200) for i in range(72)],
    "tilt down": [view(400, 100 + 4 * i) for i in range(72)],
    "tilt up": [view(400, 400 - 4 * i) for i in range(72)],
    "push in": [zoomed(1 - i / 150) for i in range(72)],
    "pull out": [zoomed(0.55 + i / 150) for i in range(72)],
}


def video_bytes(tmp: Path, motion: str) -> bytes:
    return write_video(tmp / f"{motion.replace(' ', '-')}.mp4", MOVES[motion]).read_bytes()
