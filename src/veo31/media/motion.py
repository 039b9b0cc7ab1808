"""Camera moves for the local renderer: where the virtual camera looks, and how close, at each moment.

A move is a pure function of progress t ∈ [0, 1] within one photo's segment → (zoom, centre x, centre y), the
centre as a share of the canvas. Every move eases in and out — its speed changes continuously, no jerk — but never
comes to a dead stop (30 % of it is linear), so no two frames are the same picture; its top speed is
known, which is what the tests hold the output to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The canvas (the whole picture) is this much larger than the frame: zoom 1 shows all of it, MAX_ZOOM shows a
# frame-sized part at 1:1, so the closest view is never upsampled.
MAX_ZOOM = 1.18


@dataclass(frozen=True)
class Move:
    """Zoom from `zoom[0]` to `zoom[1]` while the centre goes from `start` to `end`. Positions are in units of the
    room the view has to move at that zoom (-1 = against the canvas' left or top edge, 0 = centred, 1 = right or
    bottom), so a move can never leave the picture and never stalls against an edge. `orbit` > 0 makes the centre
    go once round an ellipse of that size instead of a straight line."""

    zoom: tuple[float, float]
    start: tuple[float, float] = (0.0, 0.0)
    end: tuple[float, float] = (0.0, 0.0)
    orbit: float = 0.0

    def at(self, t: float) -> tuple[float, float, float]:
        eased = ease(t)
        zoom = self.zoom[0] + (self.zoom[1] - self.zoom[0]) * eased
        if self.orbit:
            angle = 2 * math.pi * eased
            x, y = self.orbit * math.sin(angle), 0.6 * self.orbit * math.cos(angle)
        else:
            x = self.start[0] + (self.end[0] - self.start[0]) * eased
            y = self.start[1] + (self.end[1] - self.start[1]) * eased
        room = room_at(zoom)
        return zoom, 0.5 + x * room, 0.5 + y * room


def room_at(zoom: float) -> float:
    """How far (a share of the canvas) the view's centre may move from the middle at `zoom`: it shows 1/zoom."""
    return max(0.0, 0.5 - 0.5 / zoom)


LINEAR_SHARE = 0.3


def ease(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return (1 - LINEAR_SHARE) * (0.5 - 0.5 * math.cos(math.pi * t)) + LINEAR_SHARE * t


PRESETS: dict[str, Move] = {
    "product_video": Move(zoom=(1.02, 1.14), start=(-0.5, 0.1), end=(0.5, -0.1)),
    "hero_image": Move(zoom=(1.0, 1.12)),
    "gemstone_closeup": Move(zoom=(1.02, MAX_ZOOM)),
    "luxury_brand": Move(zoom=(1.08, 1.12), start=(-0.85, 0.0), end=(0.85, 0.0)),
    "general": Move(zoom=(1.0, 1.1)),
    "lifestyle": Move(zoom=(1.1, 1.1), start=(-0.85, 0.3), end=(0.85, -0.3)),
    "unboxing": Move(zoom=(MAX_ZOOM, 1.0)),
    "social_vertical": Move(zoom=(1.1, 1.12), start=(0.0, -0.85), end=(0.0, 0.85)),
    "turntable_360": Move(zoom=(1.1, 1.1), orbit=0.85),
}


def preset(use_case: str) -> Move:
    return PRESETS.get(use_case, PRESETS["general"])


def camera(view: tuple[float, float, float], canvas_shape: tuple[int, ...], width: int, height: int) -> np.ndarray:
    """The affine map from canvas pixels to frame pixels for a view (zoom, centre x, centre y as shares)."""
    zoom, cx, cy = view
    canvas_h, canvas_w = canvas_shape[:2]
    scale = zoom * width / canvas_w  # frame pixels per canvas pixel
    return np.array(
        [[scale, 0, width / 2 - scale * cx * canvas_w], [0, scale, height / 2 - scale * cy * canvas_h]],
        dtype=np.float64,
    )
