"""The picture a person looks at first: the reference photo beside the clip's worst frame — the moment of the lowest
scoring check that names one, else the middle — each with a caption, as a JPEG."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from veo31.quality.report import Check
from veo31.quality.signals import ClipSignals

HEIGHT = 360


def worst_moment(clip: ClipSignals, checks: Sequence[Check]) -> float:
    placed = [check for check in checks if check.at_seconds is not None]
    if not placed:
        return clip.duration / 2
    worst = min(placed, key=lambda check: check.score)
    start, end = worst.at_seconds or (0.0, 0.0)
    return (start + end) / 2


def side_by_side(photo: np.ndarray, clip: ClipSignals, at: float) -> bytes:
    """JPEG: the photo (left) and the still nearest `at` (right), both HEIGHT tall, captioned."""
    moment, still = min(clip.stills, key=lambda item: abs(item[0] - at))
    panels = [_panel(photo, "photo"), _panel(still, f"video at {moment:.1f} s")]
    canvas = Image.new("RGB", (sum(panel.width for panel in panels) + 8, HEIGHT), (24, 24, 24))
    left = 0
    for panel in panels:
        canvas.paste(panel, (left, 0))
        left += panel.width + 8
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=82)
    return out.getvalue()


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def _panel(rgb: np.ndarray, caption: str) -> Image.Image:
    image = Image.fromarray(np.ascontiguousarray(rgb))
    image = image.resize((max(1, round(image.width * HEIGHT / image.height)), HEIGHT), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=18)
    box = draw.textbbox((10, HEIGHT - 32), caption, font=font)
    draw.rectangle((box[0] - 6, box[1] - 4, box[2] + 6, box[3] + 4), fill=(0, 0, 0))
    draw.text((10, HEIGHT - 32), caption, font=font, fill=(255, 255, 255))
    return image
