"""The poster frame: the first decodable frame of a video as a JPEG, for players and galleries."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image


def save_poster(image: Image.Image, target: Path | str, *, max_side: int = 1280) -> Path:
    """`image` as a JPEG no larger than `max_side` at `target`, written atomically."""
    target = Path(target)
    image.thumbnail((max_side, max_side))
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".partial-", suffix=".jpg")
    os.close(fd)
    try:
        image.convert("RGB").save(temp, format="JPEG", quality=85)
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target
