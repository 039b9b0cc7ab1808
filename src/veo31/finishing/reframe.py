"""Product-aware reframing: from where the product is in each frame (`finishing.finder`), a smoothed path for a window
of the target's shape
that keeps the product inside the preset's safe zone, and each frame cut along it — extended from the picture itself
where the window reaches past the source (a 16:9 clip made 9:16 around a wide product), never a flat colour.

The window's size is fixed for the clip (a crop that breathes with the product's outline looks like a nervous
zoom); its centre follows the product's, smoothed over about half a second, so a product that stands still gives a
window that stands still."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from veo31.finishing.finder import Box
from veo31.finishing.presets import Preset
from veo31.media.planes import Planes, chroma_view

MARGIN = 1.12  # room around the product inside the safe zone
SMOOTH_SECONDS = 0.5
BLACK = (16, 128, 128)  # Y, Cb, Cr of black in limited range: a bar
DEADBAND = 0.02  # of the frame: the framing holds until the product moves this far (a camera operator's patience)


@dataclass(frozen=True)
class Window:
    """A crop of the source, in its pixels: centre and size (floats: the path moves by fractions of a pixel)."""

    cx: float
    cy: float
    width: float
    height: float


def fill_gaps(boxes: Sequence[Box | None], seed: Box | None) -> np.ndarray | None:
    """Every frame's box (n × 4): a frame where the product was not found takes its neighbour's (the seed — the box
    in the reference photo — before the first find). None when it was found nowhere and there is no seed: then the
    framing is the centre, at the largest size the source allows."""
    known = [box for box in boxes if box is not None]
    if not known and seed is None:
        return None
    previous = known[0] if known else seed
    filled = []
    for box in boxes:
        previous = box if box is not None else previous
        filled.append(previous)
    return np.asarray(filled, dtype=np.float64).reshape(-1, 4)


def hold(values: np.ndarray, deadband: float = DEADBAND) -> np.ndarray:
    """Each column held still until it strays more than `deadband` from where it is held, then followed at that
    distance: a product that stands still (its box flickering by a pixel or two) gives a path that does not move."""
    held = values.copy()
    for index in range(1, len(values)):
        offset = values[index] - held[index - 1]
        held[index] = held[index - 1] + np.sign(offset) * np.maximum(np.abs(offset) - deadband, 0)
    return held


def smooth(values: np.ndarray, fps: float) -> np.ndarray:
    """Each column smoothed over time with a Gaussian of about SMOOTH_SECONDS, its ends reflected: a constant
    stays exactly constant."""
    if len(values) < 3:
        return values.copy()
    sigma = max(1.0, SMOOTH_SECONDS * fps / 3)
    radius = int(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, ((radius, radius), (0, 0)), mode="reflect" if len(values) > radius else "edge")
    return np.stack([np.convolve(padded[:, column], kernel, mode="valid") for column in range(values.shape[1])], 1)


def plan(boxes: np.ndarray | None, source: tuple[int, int], preset: Preset, fps: float, frames: int) -> list[Window]:
    """The window for every frame: the target's shape, large enough that the product's largest extent fits the
    safe zone with a margin, centred so the product sits at the safe zone's centre, kept inside the source where
    the source is large enough. Without boxes (the product found nowhere), the centre at the largest size."""
    width, height = source
    if boxes is None:
        window_w, window_h = _largest(width, height, preset.aspect)
        return [Window(width / 2, height / 2, window_w, window_h)] * frames
    path = smooth(hold(boxes), fps)
    safe = preset.safe
    left, top, right, bottom = safe.left, safe.top, 1 - safe.right, 1 - safe.bottom
    safe_w, safe_h = right - left, bottom - top
    product_w = float(np.max(path[:, 2])) * width * MARGIN
    product_h = float(np.max(path[:, 3])) * height * MARGIN
    window_w, window_h = _largest(width, height, preset.aspect)
    grow = max(1.0, product_w / (window_w * safe_w), product_h / (window_h * safe_h))
    window_w, window_h = window_w * grow, window_h * grow
    offset_x = ((left + right) / 2 - 0.5) * window_w  # the safe zone's centre, from the window's
    offset_y = ((top + bottom) / 2 - 0.5) * window_h
    windows = []
    for box_left, box_top, box_w, box_h in path:
        cx = _placed(box_left * width, box_w * width, window_w, (left, right), width, offset_x)
        cy = _placed(box_top * height, box_h * height, window_h, (top, bottom), height, offset_y)
        windows.append(Window(cx, cy, window_w, window_h))
    return windows


def in_frame(
    boxes: np.ndarray | None, windows: Sequence[Window], source: tuple[int, int], width: int
) -> list[tuple[float, float, float, float]]:
    """Where the product is in each cut frame (left, top, right, bottom in its pixels; `width` wide); nothing known
    without boxes."""
    if boxes is None:
        return []
    made = []
    for (left, top, box_w, box_h), window in zip(boxes, windows, strict=False):
        scale = width / window.width
        x0 = (left * source[0] - window.cx) * scale + width / 2
        y0 = (top * source[1] - window.cy) * scale + window.height * scale / 2
        made.append((x0, y0, x0 + box_w * source[0] * scale, y0 + box_h * source[1] * scale))
    return made


def _placed(start: float, extent: float, size: float, safe: tuple[float, float], limit: int, offset: float) -> float:
    """The window's centre on one axis: the product at the safe zone's centre, moved to keep the window inside the
    source if it can — but never so far that the product leaves the safe zone (then the picture is extended)."""
    wanted = _inside(start + extent / 2 - offset, size, limit)
    start, extent = start - extent * (MARGIN - 1) / 2, extent * MARGIN
    lowest = start + extent - safe[1] * size + size / 2  # the product's far edge at the safe zone's far edge
    highest = start - safe[0] * size + size / 2  # its near edge at the zone's near edge
    return min(max(wanted, lowest), highest) if lowest <= highest else (lowest + highest) / 2


def _largest(width: int, height: int, aspect: float) -> tuple[float, float]:
    """The largest window of `aspect` inside a width × height source."""
    if width / height > aspect:
        return height * aspect, float(height)
    return float(width), width / aspect


def _inside(centre: float, size: float, limit: int) -> float:
    """The window's centre moved so the window stays inside [0, limit] — or centred when it is larger (then the
    picture is extended on both sides)."""
    if size >= limit:
        return limit / 2
    return min(max(centre, size / 2), limit - size / 2)


def cut(planes: Planes, window: Window, width: int, height: int, letterbox: bool = False) -> Planes:
    """The frame (Y, Cb, Cr planes) seen through `window`, at width × height. Where the window reaches past the
    frame, the picture's own edges continue outward, softened, so the extension takes the backdrop's colours and
    light (a mirror would bring a ghost of the product into it) — or, with `letterbox`, black bars."""
    scale = width / window.width
    matrix = np.float32(
        [
            [scale, 0, width / 2 - window.cx * scale],
            [0, scale, height / 2 - window.cy * scale],
        ]
    )
    half = chroma_view(matrix)
    source_h, source_w = planes[0].shape
    extends = window.width > source_w + 0.5 or window.height > source_h + 0.5
    if extends and letterbox:
        y, cb, cr = (
            cv2.warpAffine(plane, view, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT, borderValue=black)
            for plane, view, size, black in zip(
                planes,
                (matrix, half, half),
                ((width, height), (width // 2, height // 2), (width // 2, height // 2)),
                BLACK,
                strict=True,
            )
        )
        return y, cb, cr
    return (
        _cut_plane(planes[0], matrix, width, height, extends, 2.0),
        _cut_plane(planes[1], half, width // 2, height // 2, extends, 1.0),
        _cut_plane(planes[2], half, width // 2, height // 2, extends, 1.0),
    )


def _cut_plane(
    plane: np.ndarray, matrix: np.ndarray, width: int, height: int, extends: bool, edge: float
) -> np.ndarray:
    """One plane cut; where it extends, the seam between picture and extension is blurred over `edge` pixels."""
    flags = cv2.INTER_AREA if matrix[0, 0] < 1 else cv2.INTER_LINEAR
    sharp = cv2.warpAffine(plane, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    if not extends:
        return sharp
    inside = cv2.warpAffine(np.full(plane.shape, 255, np.uint8), matrix, (width, height), flags=cv2.INTER_LINEAR)
    # Softened at an eighth of the size (the blur is as wide, a 64th of the work), then brought back up.
    small = cv2.resize(sharp, (max(1, width // 8), max(1, height // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(width, height) / 480)
    softened = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    weight = cv2.GaussianBlur(inside, (0, 0), edge).astype(np.float32) / 255.0
    return (sharp * weight + softened * (1 - weight)).astype(np.uint8)


def jitter(windows: Sequence[Window], preset: Preset) -> float:
    """How much the path shakes, in output pixels per frame: the mean size of its second difference."""
    if len(windows) < 3:
        return 0.0
    centres = np.asarray([(window.cx, window.cy) for window in windows])
    scale = preset.width / windows[0].width
    second = np.diff(centres, n=2, axis=0) * scale
    return float(np.mean(np.linalg.norm(second, axis=1)))
