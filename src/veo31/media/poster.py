"""The poster frame: the first decodable frame of a video as a JPEG, for players and galleries."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import av

from veo31.domain import InvalidMediaError


def write_poster(video: Path | str, target: Path | str, *, max_side: int = 1280) -> Path:
    """Write the first frame of `video` to `target` as a JPEG no larger than `max_side`, atomically."""
    target = Path(target)
    try:
        with av.open(str(video)) as container:
            frame = next(container.decode(video=0))
            image = frame.to_image()
    except (av.FFmpegError, StopIteration):
        raise InvalidMediaError(f"{Path(video).name} has no frame to make a poster from") from None
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
