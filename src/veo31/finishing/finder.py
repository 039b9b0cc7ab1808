"""Where the product is in a frame of a finished video. Two ways, the first that answers wins:

- its **appearance** — the colours of the product in its reference photo, weighed against the photo's backdrop
  (a ratio histogram of hue and saturation) — looked for in the frame: it finds a red bottle on a backdrop lit
  from one side, where nothing else stands out cleanly;
- what **stands out** from the frame's backdrop (`media.subject.subject_mask`), when there is no photo or the
  product's colours are the backdrop's (a white bottle on white).

Frames are looked at `media.subject.SIDE` pixels wide (`shrunk`)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from veo31.media.subject import box_of, shrunk, subject_mask

MAX_BOX_SHARE = 0.5  # a "product" covering more of the frame than this is the scene, not something in it
MIN_SHARE = 0.002  # fewer pixels than this are a speck, not a product
BINS, RANGES = [30, 32], [0, 180, 0, 256]  # hue, saturation
RARE = 0.005  # of the product's pixels
LIKELY = 0.7  # a colour seen this much more often on the product than around it counts as the product's
Box = tuple[float, float, float, float]  # left, top, width, height as shares of the frame


@dataclass(frozen=True)
class Appearance:
    """The product's colours from its reference photo: for each hue and saturation, how likely a pixel of that
    colour is the product's (0–255), and where the product stood in the photo."""

    likelihood: np.ndarray  # BINS, float32
    box: Box

    @classmethod
    def of(cls, photo_rgb: np.ndarray) -> Appearance | None:
        """None when the photo shows nothing that stands out, or the product's colours are its backdrop's."""
        small = shrunk(photo_rgb)
        mask, _, _ = subject_mask(small)
        share = float(mask.mean())
        if not MIN_SHARE <= share <= 0.9:
            return None
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        inside = mask.astype(np.uint8)
        product = cv2.calcHist([hsv], [0, 1], inside, BINS, RANGES) / max(1, int(inside.sum()))
        around = cv2.calcHist([hsv], [0, 1], 1 - inside, BINS, RANGES) / max(1, int((1 - inside).sum()))
        likelihood = product / (product + around + 1e-6)
        likelihood[product < RARE] = 0  # a colour the product hardly has (a reflection, an edge) tells nothing
        if float((likelihood * product).sum()) < LIKELY:  # most of the product looks like its backdrop
            return None
        return cls((likelihood * 255).astype(np.float32), box_of(mask))

    def find(self, frame_rgb: np.ndarray) -> Box | None:
        """The largest patch of the product's colours in the frame, or None."""
        small = shrunk(frame_rgb)
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        chance = cv2.calcBackProject([hsv], [0, 1], self.likelihood, RANGES, 1)
        chance = cv2.GaussianBlur(chance, (0, 0), 1.5)
        mask = cv2.morphologyEx((chance >= LIKELY * 255).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
        if count < 2:
            return None
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        return plausible(labels == largest)


def find_product(frame_rgb: np.ndarray, appearance: Appearance | None = None) -> Box | None:
    """The product's box in one frame, or None when it cannot be told apart (then the path holds its course)."""
    if appearance is not None:
        found = appearance.find(frame_rgb)
        if found is not None:
            return found
    mask, _, _ = subject_mask(shrunk(frame_rgb))
    return plausible(mask)


def plausible(mask: np.ndarray) -> Box | None:
    """The mask's box, unless it is a speck, or so much of the frame that it is the scene rather than a product."""
    share = float(mask.mean())
    if share < MIN_SHARE or share > 0.9:
        return None
    box = box_of(mask)
    return None if box[2] * box[3] > MAX_BOX_SHARE else box
