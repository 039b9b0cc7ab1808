"""Result clips for the emulators: real H.264/AAC MP4s with a sound bed (Veo makes sound), rendered from a task's
photos by veo31's local renderer, or a moving test pattern when there are none; `shift_hue` makes a photo the wrong
colour, for a result that shows another product (the fault `hue_shift`)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image

from veo31.errors import InvalidMediaError
from veo31.media.render import Look, RenderSpec, render_video
from veo31.media.testpattern import render_test_pattern


def pad_mp4(content: bytes, size: int) -> bytes:
    """Grow an MP4 to `size` bytes with a top-level 'free' box, which every player and demuxer skips."""
    missing = size - len(content)
    if missing <= 0:
        return content
    missing = max(missing, 8)
    return content + missing.to_bytes(4, "big") + b"free" + bytes(missing - 8)


def render_pattern_clip(width: int, height: int, seconds: float, fps: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="veo31-emulator-") as folder:
        path = render_test_pattern(Path(folder) / "clip.mp4", width=width, height=height, seconds=seconds, fps=fps)
        return path.read_bytes()


def render_photo_clip(photos: list[bytes], width: int, height: int, seconds: float, fps: int) -> bytes:
    spec = RenderSpec(width, height, fps=fps, duration=seconds, x264_preset="ultrafast", audio="bed", look=Look.FLAT)
    with tempfile.TemporaryDirectory(prefix="veo31-emulator-") as folder:
        try:
            return render_video(photos, spec, Path(folder) / "clip.mp4").read_bytes()
        except InvalidMediaError:  # an upload that is not a photo: a provider would still make something
            return render_test_pattern(
                Path(folder) / "clip.mp4", width=width, height=height, seconds=seconds, fps=fps
            ).read_bytes()


def shift_hue(photo: bytes, degrees: float = 150.0) -> bytes:
    """The photo with every hue turned by `degrees` (the product in another colour), as PNG."""
    with Image.open(io.BytesIO(photo)) as image:
        hue, saturation, value = image.convert("RGB").convert("HSV").split()
    turned = hue.point(lambda level: (level + round(degrees / 360 * 256)) % 256)
    out = io.BytesIO()
    Image.merge("HSV", (turned, saturation, value)).convert("RGB").save(out, "PNG")
    return out.getvalue()
