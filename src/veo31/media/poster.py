"""The poster frame: the first decodable frame of a video as a JPEG, for players and galleries."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import av
from PIL import Image


def frame_image(frame: av.VideoFrame) -> Image.Image:
    """A decoded frame as an RGB image. PyAV's own `to_image` copies the picture row by row in a loop, several
    times the CPU of Pillow reading the converted plane whole (same pixels), and every retrieval pays for its
    poster. Not through numpy either: loading it would grow each media process (docs/performance.md)."""
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    return Image.frombuffer("RGB", (rgb.width, rgb.height), plane, "raw", "RGB", plane.line_size, 1)


def save_poster(image: Image.Image, target: Path | str, *, max_side: int = 1280) -> Path:
    """`image` as a JPEG no larger than `max_side` at `target`, written atomically."""
    target = Path(target)
    image.thumbnail((max_side, max_side))
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".partial-", suffix=".jpg")
    os.close(fd)
    try:
        (image if image.mode == "RGB" else image.convert("RGB")).save(temp, format="JPEG", quality=85)
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target
