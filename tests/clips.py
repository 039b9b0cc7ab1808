"""Product clips the quality tests make themselves: a good one (the local renderer's pans and zooms over a product
photo, with sound) and copies of it changed frame by frame into bad ones."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from veo31.media.render import RenderSpec, render_video

PHOTO = Path(__file__).resolve().parent / "fixtures" / "product-in-scene.jpg"
WHITE = PHOTO.parent / "product-on-white.jpg"
FPS = 24


def rendered(folder: Path, audio: str = "bed") -> Path:
    spec = RenderSpec(640, 360, fps=FPS, duration=4, audio=audio, x264_preset="ultrafast")
    return render_video([PHOTO.read_bytes()], spec, folder / f"good-{audio}.mp4")


def remade(
    frames: list[np.ndarray], target: Path, change: Callable[[int, np.ndarray], np.ndarray], *, crf: int = 18
) -> Path:
    """The good clip's frames, each passed through `change`, encoded again at `crf` (no sound: a picture's defect)."""
    with av.open(str(target), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS))
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": str(crf)}
        for index, frame in enumerate(frames):
            picture = np.ascontiguousarray(change(index, frame.copy()))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    return target


def long_clip(target: Path, seconds: int) -> Path:
    """A tiny clip that runs `seconds` (one frame a second): a file far too long to be a product video."""
    with av.open(str(target), "w") as container:
        stream = container.add_stream("libx264", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        picture = np.zeros((16, 16, 3), dtype=np.uint8)
        for _ in range(seconds):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    return target
