"""The local renderer's studio look: each photo lifted into two layers — the product, cut from a plain backdrop
(`media.subject.subject_mask`), and the backdrop itself with the product taken out and extended past the photo's
edges in its own colours and light — so the camera can move them apart (parallax: the backdrop moves less than the
product, which also grows a little on its own), with a soft contact shadow under the product and a light sweep
across it once per shot. The product is scaled to fill the frame it is framed for. A photo of a scene (no plain
backdrop to lift the product from) fills the frame whole, cropped around what stands out, never pillarboxed.

Both layers are made once per photo as YUV planes on a canvas MAX_ZOOM times the frame; each frame is then a few
sub-pixel warps and one blend, as in the flat look."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from veo31.media.motion import MAX_ZOOM, Move, camera, room_at
from veo31.media.planes import ColourSpace, Planes, chroma_view, even, warp_into
from veo31.media.subject import box_of, shrunk, subject_mask

FILL = 0.62  # the product's height (or width, if it is wide) as a share of the frame at the widest view
MAX_UPSCALE = 2.0  # a small product photo is enlarged at most this much (more would show its pixels)
PARALLAX = 0.55  # the backdrop moves this share of the camera's travel, and zooms as much less
GROWTH = 0.035  # the product layer grows this much on its own over a shot
SWEEP = (0.3, 0.8)  # the part of a shot the light sweep crosses the product in
SWEEP_GAIN = 0.28  # how far towards white the sweep's centre lifts the product's light
SPACE = ColourSpace()


@dataclass(frozen=True)
class Layers:
    """One photo made ready: the backdrop's planes, the product's planes and opacity (None for a scene photo)."""

    backdrop: Planes
    product: Planes | None
    alpha: tuple[np.ndarray, np.ndarray] | None  # float32 0–1: canvas size, and half (for the chroma planes)
    colour: tuple[int, int, int]  # the backdrop's colour: the end card's
    extent: tuple[int, int, int, int] = (0, 0, 0, 0)  # the product's box on the canvas: left, top, right, bottom


def layers(photo: np.ndarray, width: int, height: int) -> Layers:
    canvas = (even(width * MAX_ZOOM), even(height * MAX_ZOOM))
    small = shrunk(photo)
    mask, plain, background = subject_mask(small)
    colour = (int(background[0]), int(background[1]), int(background[2]))
    share = float(mask.mean())
    if not plain or not 0.01 <= share <= 0.6:
        box = box_of(mask) if 0.002 < share < 0.9 else None
        return Layers(SPACE.planes(_covered(photo, box, canvas)), None, None, colour)
    return _lifted(photo, small, mask, canvas, colour)


def _lifted(
    photo: np.ndarray, small: np.ndarray, mask: np.ndarray, canvas: tuple[int, int], colour: tuple[int, int, int]
) -> Layers:
    canvas_w, canvas_h = canvas
    photo_h, photo_w = photo.shape[:2]
    left, top, box_w, box_h = box_of(mask)
    scale = min(FILL * canvas_h / (box_h * photo_h), FILL * canvas_w / (box_w * photo_w), MAX_UPSCALE)
    # The product's centre at the canvas' centre, a little low: the eye expects room above a standing thing.
    centre_x, centre_y = (left + box_w / 2) * photo_w, (top + box_h / 2) * photo_h
    matrix = np.float32([[scale, 0, canvas_w / 2 - centre_x * scale], [0, scale, canvas_h * 0.53 - centre_y * scale]])
    matte = cv2.resize(mask.astype(np.float32), (photo_w, photo_h), interpolation=cv2.INTER_LINEAR)
    matte = cv2.GaussianBlur(matte, (0, 0), max(1.0, photo_w / 900))
    alpha = cv2.warpAffine(matte, matrix, canvas, flags=cv2.INTER_LINEAR, borderValue=0.0)
    product = cv2.warpAffine(photo, matrix, canvas, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    from_small = matrix.copy()
    from_small[:, :2] *= photo_w / small.shape[1]  # the same placement, from the small picture's pixels
    backdrop = _backdrop(small, mask, from_small, canvas)
    _shadow(backdrop, alpha)
    half = cv2.resize(alpha, (canvas_w // 2, canvas_h // 2), interpolation=cv2.INTER_AREA)
    rows, columns = np.nonzero(alpha.max(axis=1) > 0.004)[0], np.nonzero(alpha.max(axis=0) > 0.004)[0]
    extent = (int(columns.min()), int(rows.min()), int(columns.max()) + 1, int(rows.max()) + 1)
    return Layers(SPACE.planes(backdrop), SPACE.planes(product), (alpha, half), colour, extent)


def _backdrop(small: np.ndarray, mask: np.ndarray, matrix: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """The photo without the product (filled in from around it), carried past its edges, softened: the studio's
    own backdrop, as large as the canvas."""
    hole = cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8))
    empty = cv2.inpaint(small, hole, 7, cv2.INPAINT_TELEA)
    plate = cv2.warpAffine(empty, matrix, canvas, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.GaussianBlur(plate, (0, 0), max(canvas) / 300)


def _shadow(backdrop: np.ndarray, alpha: np.ndarray) -> None:
    """A soft contact shadow under the product, on the backdrop: it stands on something."""
    rows = np.nonzero(alpha.max(axis=1) > 0.5)[0]
    columns = np.nonzero(alpha.max(axis=0) > 0.5)[0]
    if len(rows) == 0:
        return
    bottom, middle = int(rows.max()), int((columns.min() + columns.max()) / 2)
    reach = max(4, int((columns.max() - columns.min()) * 0.45))
    shade = np.zeros(alpha.shape, np.float32)
    cv2.ellipse(shade, (middle, bottom), (reach, max(2, reach // 6)), 0, 0, 360, 1.0, -1)
    shade = cv2.GaussianBlur(shade, (0, 0), reach / 4)
    backdrop[:] = (backdrop * (1 - 0.35 * shade[..., None])).astype(np.uint8)


def _covered(photo: np.ndarray, box: tuple[float, float, float, float] | None, canvas: tuple[int, int]) -> np.ndarray:
    """A scene photo scaled to cover the canvas, cropped around what stands out in it (or its centre)."""
    photo_h, photo_w = photo.shape[:2]
    canvas_w, canvas_h = canvas
    scale = max(canvas_w / photo_w, canvas_h / photo_h)
    want_x = (box[0] + box[2] / 2) * photo_w if box else photo_w / 2
    want_y = (box[1] + box[3] / 2) * photo_h if box else photo_h / 2
    x = min(max(want_x * scale - canvas_w / 2, 0), photo_w * scale - canvas_w)
    y = min(max(want_y * scale - canvas_h / 2, 0), photo_h * scale - canvas_h)
    matrix = np.float32([[scale, 0, -x], [0, scale, -y]])
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(photo, matrix, canvas, flags=flags, borderMode=cv2.BORDER_REPLICATE)


# -- drawing ------------------------------------------------------------------------------------------------------


def draw(made: Layers, move: Move, t: float, targets: Sequence[np.ndarray]) -> None:
    """The photo's layers at shot progress t into the frame's planes `targets`."""
    zoom, cx, cy = move.at(t)
    width, height = targets[0].shape[1], targets[0].shape[0]
    back_zoom = 1 + (zoom - 1) * PARALLAX
    room = room_at(back_zoom)
    back = (back_zoom, _clamp(0.5 + (cx - 0.5) * PARALLAX, room), _clamp(0.5 + (cy - 0.5) * PARALLAX, room))
    warp_into(made.backdrop, camera(back, made.backdrop[0].shape, width, height), targets)
    if made.product is None or made.alpha is None:
        return
    front = (zoom * (1 + GROWTH * t), cx, cy)
    matrix = camera(front, made.product[0].shape, width, height)
    # Only the part of the frame the product covers is drawn on: the rest of its layer is transparent.
    left, top, right, bottom = made.extent
    xs = [matrix[0, 0] * x + matrix[0, 2] for x in (left, right)]
    ys = [matrix[1, 1] * y + matrix[1, 2] for y in (top, bottom)]
    x0, y0 = max(0, int(min(xs)) - 2) & ~1, max(0, int(min(ys)) - 2) & ~1
    x1, y1 = min(width, int(max(xs)) + 4) & ~1, min(height, int(max(ys)) + 4) & ~1
    if x1 <= x0 or y1 <= y0:
        return
    shifted = matrix.copy()
    shifted[:, 2] -= (x0, y0)
    half = chroma_view(shifted)
    for index, (plane, target) in enumerate(zip(made.product, targets, strict=True)):
        view, step = (shifted, 1) if index == 0 else (half, 2)
        region = target[y0 // step : y1 // step, x0 // step : x1 // step]
        size = (region.shape[1], region.shape[0])
        alpha = cv2.warpAffine(made.alpha[0 if index == 0 else 1], view, size)
        layer = cv2.warpAffine(plane, view, size, flags=cv2.INTER_LINEAR)
        if index == 0:
            layer = _swept(layer, alpha, t, (x0, y0, width, height))
        region[:] = cv2.blendLinear(layer, region.copy(), alpha, 1 - alpha)


def _swept(luma: np.ndarray, alpha: np.ndarray, t: float, where: tuple[int, int, int, int]) -> np.ndarray:
    """The product's light lifted along a soft diagonal band that crosses the frame once between SWEEP[0] and
    SWEEP[1]; `luma` is the part of the frame at (left, top) of a frame width × height (`where`)."""
    if not SWEEP[0] < t < SWEEP[1]:
        return luma
    height, width = luma.shape
    left, top, frame_w, frame_h = where
    small = (max(2, width // 8), max(2, height // 8))
    ys, xs = np.mgrid[0 : small[1], 0 : small[0]].astype(np.float32)
    xs = (left + xs * width / small[0]) / frame_w
    ys = (top + ys * height / small[1]) / frame_h
    across = (xs + 0.5 * ys) / 1.5  # 0 at the frame's top left, 1 at its bottom right
    position = -0.2 + 1.4 * (t - SWEEP[0]) / (SWEEP[1] - SWEEP[0])
    band = np.exp(-(((across - position) / 0.09) ** 2)).astype(np.float32)
    band = cv2.resize(band, (width, height), interpolation=cv2.INTER_LINEAR) * alpha * SWEEP_GAIN
    return (luma + (235 - luma.astype(np.float32)) * band).astype(np.uint8)


def _clamp(centre: float, room: float) -> float:
    return min(max(centre, 0.5 - room), 0.5 + room)
