"""Product fidelity: does the clip show *the* product of the photos? Judged over the clip, not frame by frame —
a camera that moves, zooms, turns or changes the light is what a good product video does.

- **Product**: where the product is in each photo (the local analyser's subject mask), its local features (SIFT)
  matched in the clip's stills with a geometric check (a RANSAC homography); recognisable in how much of the clip.
- **Colour**: in the best views, the product's region (the photo's mask carried over by the homography) compared
  in CIELAB: the hue of its colour, and ΔE.
- **Detail**: the best view turned back into the photo's frame and compared block by block (normalised
  correlation, blind to light and contrast): a logo swapped, a word changed or an outline reshaped shows as blocks
  that no view matches.
- **Label**: the words of the photo's product read (OCR) and read again in the view that shows it largest
  (`label`).
- **First / last frame** (first_frame, first_last): the clip opens (ends) on its photo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from veo31.analysis.local import load_rgb
from veo31.media.subject import box_of, subject_mask
from veo31.quality.label import label_check
from veo31.quality.report import Check, CheckKind, margin_score
from veo31.quality.signals import ClipSignals

REFERENCE_SIDE = 640  # photos are looked at this large: about the stills' scale, so features meet at one size
BLOCK = 12  # detail blocks are this many pixels square, at the photo's REFERENCE_SIDE


@dataclass(frozen=True)
class FidelityLimits:
    recognised_inliers: int = 12  # matched features a geometric check keeps, for a still to show the product
    recognised_share: float = 0.5  # of the clip's stills
    hue_degrees: float = 25.0
    detail_correlation: float = 0.45  # a block below this in every view differs
    detail_blocks: int = 3  # differing blocks allowed (a reflection, a crease)
    frame_similarity: float = 0.6


@dataclass
class Reference:
    index: int
    rgb: np.ndarray
    gray: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    keypoints: Sequence[cv2.KeyPoint]
    descriptors: np.ndarray | None


@dataclass
class View:
    """One still where a reference was recognised."""

    at: float
    reference: int
    inliers: int
    homography: np.ndarray  # photo → still
    rgb: np.ndarray


def _sift() -> cv2.SIFT:
    return cv2.SIFT_create(nfeatures=800)


def prepare_reference(content: bytes, index: int) -> Reference:
    rgb = load_rgb(content, max_side=REFERENCE_SIDE)
    mask, _, _ = subject_mask(rgb)
    if mask.sum() < 0.01 * mask.size:
        mask = np.ones(mask.shape, dtype=bool)
    x, y, w, h = box_of(mask)
    height, width = mask.shape
    box = (int(x * width), int(y * height), int(math.ceil((x + w) * width)), int(math.ceil((y + h) * height)))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    near = cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8))
    keypoints, descriptors = _sift().detectAndCompute(gray, near)
    return Reference(index, rgb, gray, mask, box, keypoints, descriptors)


def find_views(clip: ClipSignals, references: Sequence[Reference], limits: FidelityLimits) -> list[View | None]:
    """For each still, the reference recognised best in it (or None)."""
    sift, matcher = _sift(), cv2.BFMatcher(cv2.NORM_L2)
    views: list[View | None] = []
    for at, rgb in clip.stills:
        keypoints, descriptors = sift.detectAndCompute(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), None)
        best: View | None = None
        for reference in references:
            found = _match(reference, keypoints, descriptors, matcher)
            if (
                found is not None
                and found[1] >= limits.recognised_inliers
                and (best is None or found[1] > best.inliers)
            ):
                best = View(at, reference.index, found[1], found[0], rgb)
        views.append(best)
    return views


def _match(
    reference: Reference, keypoints: Sequence[cv2.KeyPoint], descriptors: np.ndarray | None, matcher: cv2.BFMatcher
) -> tuple[np.ndarray, int] | None:
    if reference.descriptors is None or descriptors is None or len(keypoints) < 4 or len(reference.keypoints) < 4:
        return None
    pairs = matcher.knnMatch(reference.descriptors, descriptors, k=2)
    good = [pair[0] for pair in pairs if len(pair) == 2 and pair[0].distance < 0.75 * pair[1].distance]
    if len(good) < 8:
        return None
    source = np.float32([reference.keypoints[m.queryIdx].pt for m in good])
    target = np.float32([keypoints[m.trainIdx].pt for m in good])
    homography, inliers = cv2.findHomography(source, target, cv2.RANSAC, 4.0)
    if homography is None or inliers is None or not _plausible(homography):
        return None
    return homography, int(inliers.sum())


def _plausible(homography: np.ndarray) -> bool:
    """A view a camera could give: not mirrored, not collapsed, not wildly skewed."""
    affine = homography[:2, :2] / homography[2, 2]
    determinant = float(np.linalg.det(affine))
    return 0.01 < determinant < 100 and abs(float(homography[2, 0])) < 0.01 and abs(float(homography[2, 1])) < 0.01


def fidelity_checks(
    clip: ClipSignals, references: Sequence[Reference], mode: str | None, limits: FidelityLimits | None = None
) -> list[Check]:
    limits = limits or FidelityLimits()
    views = find_views(clip, references, limits)
    found = [view for view in views if view is not None]
    checks = [_product(clip, views, limits)]
    if found:
        best = sorted(found, key=lambda view: view.inliers, reverse=True)[:3]
        checks.append(_colour(best, references, limits))
        checks.append(_detail(best, references, limits))
        legible = max(best, key=lambda view: _scale(view.homography))  # the view that shows the label largest
        reference = references[legible.reference]
        label = label_check(
            reference.rgb, reference.box, legible.rgb, legible.homography, _scale(legible.homography), legible.at
        )
        if label is not None:
            checks.append(label)
    if mode in ("first_frame", "first_last"):
        checks.append(_frame(clip, references[0], first=True, limits=limits))
    if mode == "first_last" and len(references) > 1:
        checks.append(_frame(clip, references[-1], first=False, limits=limits))
    return checks


def _product(clip: ClipSignals, views: list[View | None], limits: FidelityLimits) -> Check:
    seen = [view is not None for view in views]
    share = sum(seen) / len(seen) if seen else 0.0
    passed = share >= limits.recognised_share
    if not any(seen):
        message = "the product in the photos is not recognisable anywhere in the clip"
    elif passed:
        message = f"the product is recognisable in {share:.0%} of the clip"
    else:
        message = f"the product is recognisable in only {share:.0%} of the clip"
    gap = _longest_gap(clip, seen)
    return Check(
        kind=CheckKind.PRODUCT,
        passed=passed,
        score=round(min(1.0, share / (2 * limits.recognised_share)), 3),
        message=message + (f"; missing {gap[0]:.1f}–{gap[1]:.1f} s" if gap and not passed else ""),
        at_seconds=None if passed else gap,
    )


def _longest_gap(clip: ClipSignals, seen: list[bool]) -> tuple[float, float] | None:
    times = [at for at, _ in clip.stills]
    best: tuple[float, float] | None = None
    start: float | None = None
    for at, present in zip([*times, clip.duration], [*seen, True], strict=True):
        if not present and start is None:
            start = at
        elif present and start is not None:
            if best is None or at - start > best[1] - best[0]:
                best = (round(start, 2), round(at, 2))
            start = None
    return best


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _hue(lab_pixels: np.ndarray) -> tuple[float, float] | None:
    """(hue angle in degrees, chroma) of a region's coloured pixels; None when it is grey."""
    a, b = lab_pixels[:, 1], lab_pixels[:, 2]
    chroma = np.hypot(a, b)
    coloured = chroma > 12
    if coloured.mean() < 0.1:
        return None
    angle = math.degrees(math.atan2(float(b[coloured].mean()), float(a[coloured].mean())))
    return angle % 360, float(chroma[coloured].mean())


def _colour(views: list[View], references: Sequence[Reference], limits: FidelityLimits) -> Check:
    differences, delta_e, worst = [], [], views[0]
    for view in views:
        reference = references[view.reference]
        photo = _lab(reference.rgb)[reference.mask]
        height, width = view.rgb.shape[:2]
        carried = cv2.warpPerspective(reference.mask.astype(np.uint8), view.homography, (width, height)) > 0
        if carried.sum() < 100:
            continue
        frame = _lab(view.rgb)[carried]
        delta_e.append(float(np.linalg.norm(photo.mean(axis=0) - frame.mean(axis=0))))
        hues = _hue(photo), _hue(frame)
        if hues[0] is None or hues[1] is None:
            differences.append(0.0 if hues[0] == hues[1] else 180.0)
            continue
        turn = abs(hues[0][0] - hues[1][0]) % 360
        differences.append(min(turn, 360 - turn))
        if differences[-1] >= max(differences):
            worst = view
    if not differences:
        return Check(kind=CheckKind.COLOUR, passed=True, score=1.0, message="too little of the product to judge")
    off = float(np.median(differences))
    passed = off <= limits.hue_degrees
    shade = f"ΔE {np.median(delta_e):.0f}"
    message = (
        f"the colour is the photo's ({shade})"
        if passed
        else (
            f"the product's colour is off: its hue is turned {off:.0f}° from the photo's ({shade}), best view at "
            f"{worst.at:.1f} s"
        )
    )
    at = None if passed else (worst.at, worst.at)
    return Check(
        kind=CheckKind.COLOUR,
        passed=passed,
        score=round(margin_score(off, limits.hue_degrees), 3),
        message=message,
        at_seconds=at,
    )


def _detail(views: list[View], references: Sequence[Reference], limits: FidelityLimits) -> Check:
    """Blocks of the photo's product that no good view matches (the best correlation over the views)."""
    reference = references[views[0].reference]
    same = [view for view in views if view.reference == reference.index]
    left, top, right, bottom = reference.box
    rows, columns = (bottom - top) // BLOCK, (right - left) // BLOCK
    if rows < 2 or columns < 2:
        return Check(kind=CheckKind.DETAIL, passed=True, score=1.0, message="the product is too small to compare")
    area = (slice(top, top + rows * BLOCK), slice(left, left + columns * BLOCK))
    photo = _blocks(reference.gray[area], rows, columns)
    textured = photo.std(axis=(2, 3)) >= 8
    best = np.full((rows, columns), -1.0, dtype=np.float32)
    shown = np.zeros((rows, columns), dtype=bool)  # in the frame of at least one view
    height, width = reference.gray.shape
    for view in same:
        gray = cv2.cvtColor(view.rgb, cv2.COLOR_RGB2GRAY)
        inverse = np.linalg.inv(view.homography)
        back = cv2.warpPerspective(gray, inverse, (width, height), flags=cv2.INTER_AREA)
        inside = cv2.warpPerspective(np.ones_like(gray), inverse, (width, height), flags=cv2.INTER_NEAREST)
        visible = _blocks(inside[area], rows, columns).min(axis=(2, 3)) > 0  # a block cut by the frame's edge waits
        seen = _at_scale_of(reference.gray, view.homography)[area]  # what the photo shows at the view's detail
        alike = _block_correlation(_blocks(seen, rows, columns), _blocks(back[area], rows, columns))
        best = np.where(visible, np.maximum(best, alike), best)
        shown |= visible
    textured &= shown
    differing = textured & (best < limits.detail_correlation)
    count, places = int(differing.sum()), int(textured.sum())
    passed = count <= limits.detail_blocks
    message = (
        "aligned with the photo, the product's details match"
        if passed
        else (
            f"the product differs from photo {reference.index + 1} in {count} of {places} places "
            f"({_places(differing)}) in every view — a changed label, logo or shape; best view at {same[0].at:.1f} s"
        )
    )
    return Check(
        kind=CheckKind.DETAIL,
        passed=passed,
        score=round(max(0.0, 1.0 - count / (2 * max(1, limits.detail_blocks))), 3),
        message=message,
        at_seconds=None if passed else (same[0].at, same[-1].at),
    )


def _scale(homography: np.ndarray) -> float:
    """How many of the view's pixels one of the photo's becomes."""
    return math.sqrt(abs(float(np.linalg.det(homography[:2, :2] / homography[2, 2]))))


def _at_scale_of(gray: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """The photo as a view that shows it smaller would: shrunk by the view's scale and brought back, so fine detail
    the clip cannot hold at that size is not counted against it."""
    scale = _scale(homography)
    if scale >= 0.95:
        return gray
    height, width = gray.shape
    small = cv2.resize(
        gray, (max(2, round(width * scale)), max(2, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _blocks(gray: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """(rows, columns, BLOCK, BLOCK) float32 views of a grey image cut into blocks."""
    return gray.astype(np.float32).reshape(rows, BLOCK, columns, BLOCK).transpose(0, 2, 1, 3)


def _block_correlation(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    a = first - first.mean(axis=(2, 3), keepdims=True)
    b = second - second.mean(axis=(2, 3), keepdims=True)
    norm = np.sqrt((a * a).sum(axis=(2, 3)) * (b * b).sum(axis=(2, 3)))
    return np.where(norm > 1e-6, (a * b).sum(axis=(2, 3)) / np.maximum(norm, 1e-6), 0.0)


def _correlation(first: np.ndarray, second: np.ndarray) -> float:
    a, b = first - first.mean(), second - second.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / norm) if norm > 1e-6 else 0.0


def _places(mask: np.ndarray) -> str:
    """Where on the product, in thirds: "middle centre", "top left"…"""
    rows, columns = np.nonzero(mask)
    if len(rows) == 0:
        return "nowhere"
    names = []
    for row, column in zip(rows, columns, strict=True):
        vertical = ("top", "middle", "bottom")[min(2, row * 3 // mask.shape[0])]
        horizontal = ("left", "centre", "right")[min(2, column * 3 // mask.shape[1])]
        names.append(f"{vertical} {horizontal}")
    return ", ".join(dict.fromkeys(names))


def _frame(clip: ClipSignals, reference: Reference, *, first: bool, limits: FidelityLimits) -> Check:
    """The first (last) frame against its photo, both at the grey thumbnails' size, the photo cropped to the clip's
    aspect as a provider fills the frame."""
    frame = clip.luma[0 if first else -1].astype(np.float32)
    height, width = frame.shape
    photo = _cover(reference.gray, width, height).astype(np.float32)
    similarity = _correlation(photo, frame)
    passed = similarity >= limits.frame_similarity
    which = "opens" if first else "ends"
    kind = CheckKind.FIRST_FRAME if first else CheckKind.LAST_FRAME
    message = (
        f"the clip {which} on photo {reference.index + 1}"
        if passed
        else (f"the clip does not {which.rstrip('s')} on photo {reference.index + 1} (similarity {similarity:.2f})")
    )
    at = clip.times[0] if first else clip.times[-1]
    return Check(
        kind=kind,
        passed=passed,
        score=round(max(0.0, min(1.0, similarity)), 3),
        message=message,
        at_seconds=None if passed else (float(at), float(at)),
    )


def _cover(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    scale = max(width / gray.shape[1], height / gray.shape[0])
    resized = cv2.resize(gray, (math.ceil(gray.shape[1] * scale), math.ceil(gray.shape[0] * scale)), cv2.INTER_AREA)
    top = (resized.shape[0] - height) // 2
    left = (resized.shape[1] - width) // 2
    return resized[top : top + height, left : left + width]
