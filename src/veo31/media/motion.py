"""Camera moves for the local renderer: where the virtual camera looks, and how close, at each moment.

A move is a pure function of progress t ∈ [0, 1] within one photo's segment → (zoom, centre x, centre y), the
centre as a share of the canvas. Every move eases in and out with a cosine, so its speed is continuous — no jerk
at the start or end — and its top speed is known, which is what the tests hold the output to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The canvas (the whole picture) is this much larger than the frame: zoom 1 shows all of it, MAX_ZOOM shows a
# frame-sized part at 1:1, so the closest view is never upsampled.
MAX_ZOOM = 1.18


@dataclass(frozen=True)
class Move:
    """Zoom from `zoom[0]` to `zoom[1]`; centre from `start` to `end` (shares of the canvas); `orbit` > 0 adds an
    elliptical drift of that radius, once round, instead of a straight path."""

    zoom: tuple[float, float]
    start: tuple[float, float] = (0.5, 0.5)
    end: tuple[float, float] = (0.5, 0.5)
    orbit: float = 0.0

    def at(self, t: float) -> tuple[float, float, float]:
        eased = ease(t)
        zoom = self.zoom[0] + (self.zoom[1] - self.zoom[0]) * eased
        if self.orbit:
            angle = 2 * math.pi * eased
            x = 0.5 + self.orbit * math.sin(angle)
            y = 0.5 - self.orbit * 0.35 * (1 - math.cos(angle))
        else:
            x = self.start[0] + (self.end[0] - self.start[0]) * eased
            y = self.start[1] + (self.end[1] - self.start[1]) * eased
        return zoom, *clamp_centre(zoom, x, y)


def ease(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return 0.5 - 0.5 * math.cos(math.pi * t)


def clamp_centre(zoom: float, x: float, y: float) -> tuple[float, float]:
    """Keep the view inside the canvas: at `zoom` it shows 1/zoom of the canvas per axis, centred at (x, y)."""
    margin = max(0.0, 0.5 - 0.5 / zoom)
    return min(max(x, 0.5 - margin), 0.5 + margin), min(max(y, 0.5 - margin), 0.5 + margin)


PRESETS: dict[str, Move] = {
    "product_video": Move(zoom=(1.0, 1.14), start=(0.47, 0.5), end=(0.53, 0.49)),
    "hero_image": Move(zoom=(1.0, 1.12)),
    "gemstone_closeup": Move(zoom=(1.02, MAX_ZOOM)),
    "luxury_brand": Move(zoom=(1.08, 1.12), start=(0.44, 0.5), end=(0.56, 0.5)),
    "general": Move(zoom=(1.0, 1.1)),
    "lifestyle": Move(zoom=(1.1, 1.1), start=(0.43, 0.52), end=(0.57, 0.48)),
    "unboxing": Move(zoom=(MAX_ZOOM, 1.0)),
    "social_vertical": Move(zoom=(1.1, 1.12), start=(0.5, 0.44), end=(0.5, 0.56)),
    "turntable_360": Move(zoom=(1.1, 1.1), orbit=0.05),
}


def preset(use_case: str) -> Move:
    return PRESETS.get(use_case, PRESETS["general"])
