"""Where the product is in a picture: what stands out from a plain backdrop (by colour distance from the border's
colour), or from a busy one (by edges, weighted to the centre) — a mask and its box. Used to describe photos, check
videos against them, frame deliverables and lift the product off its backdrop in the local renderer."""

from __future__ import annotations

import cv2
import numpy as np

SIDE = 320  # pictures are looked at this wide: enough for the product's box, cheap per picture


def shrunk(picture: np.ndarray, side: int = SIDE) -> np.ndarray:
    """A copy `side` pixels wide (the picture itself if it already is), for finding the product in."""
    height, width = picture.shape[:2]
    if width == side:
        return picture
    size = (side, max(1, round(height * side / max(width, 1))))
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def subject_mask(rgb: np.ndarray) -> tuple[np.ndarray, bool, np.ndarray]:
    """(mask of the product's pixels, whether the background is plain, the background's mean colour)."""
    height, width = rgb.shape[:2]
    band = max(2, round(min(height, width) * 0.05))
    border = np.concatenate(
        [
            rgb[:band].reshape(-1, 3),
            rgb[-band:].reshape(-1, 3),
            rgb[:, :band].reshape(-1, 3),
            rgb[:, -band:].reshape(-1, 3),
        ]
    ).astype(np.float32)
    background = np.median(border, axis=0)
    spread = float(np.percentile(np.linalg.norm(border - background, axis=1), 90))
    plain = spread < 28.0
    if plain:
        distance = np.linalg.norm(rgb.astype(np.float32) - background, axis=2)
        mask = distance > max(30.0, spread * 2.5)
    else:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        magnitude = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
        weight = _centre_weight(height, width)
        saliency = cv2.GaussianBlur(magnitude * weight, (0, 0), max(2.0, min(height, width) / 40))
        mask = saliency > np.percentile(saliency, 70)
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if plain:
        mask = _filled(mask)  # a label or highlight the colour of the backdrop is still the product
    return mask.astype(bool), plain, background


def _filled(mask: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    large = [contour for contour in contours if cv2.contourArea(contour) >= mask.size * 0.0005]
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, large, -1, 1, thickness=cv2.FILLED)
    return filled


def _centre_weight(height: int, width: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.exp(-(((xs / width - 0.5) ** 2) + ((ys / height - 0.5) ** 2)) / 0.18)


def box_of(mask: np.ndarray) -> tuple[float, float, float, float]:
    """The product's box as shares of the frame, ignoring stray specks (2nd–98th percentile of its pixels)."""
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    if len(xs) == 0:
        return (0.0, 0.0, 1.0, 1.0)
    left, right = np.percentile(xs, [2, 98])
    top, bottom = np.percentile(ys, [2, 98])
    return (
        round(left / width, 3),
        round(top / height, 3),
        round((right - left + 1) / width, 3),
        round((bottom - top + 1) / height, 3),
    )
