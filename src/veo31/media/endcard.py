"""The local renderer's closing card: the last 1.5 s, the backdrop's own colour fading in over the picture, then the
product's name on it, whole — words are never faded (a half-transparent word over a moving picture does not read),
and drawn in the kit-free default: black or white, whichever reads on the card (WCAG contrast, at least 4.5:1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from veo31.media.colour import HEADING_FONT, readable_on
from veo31.media.planes import ColourSpace, Planes

SECONDS = 1.5
FADE_SECONDS = 0.3
MIN_CLIP_SECONDS = 4.0  # a shorter clip is all product: no card
INK = (24, 24, 28)  # the words' colour where it reads; white where it does not


@dataclass(frozen=True)
class EndCard:
    first: int  # the frame the card starts fading in at
    fade: int  # frames of fading
    planes: Planes
    colour: tuple[float, float, float]  # the card's Y, Cb, Cr

    def covers(self, index: int) -> bool:
        """Frame `index` is the card alone (faded in)."""
        return index >= self.first + self.fade

    def over(self, targets: tuple[np.ndarray, ...] | list[np.ndarray], index: int) -> None:
        """Frame `index`'s planes: untouched before the card, fading to its colour, then the card itself."""
        into = index - self.first
        if into < 0:
            return
        if self.covers(index):
            for target, plane in zip(targets, self.planes, strict=True):
                target[:] = plane
            return
        share = (into + 1) / (self.fade + 1)
        for target, value in zip(targets, self.colour, strict=True):
            target[:] = (target * (1 - share) + value * share).astype(np.uint8)


def end_card(
    name: str | None, colour: tuple[int, int, int], size: tuple[int, int], fps: float, frames: int, space: ColourSpace
) -> EndCard | None:
    """The card for a clip of `frames` frames, or None (no name, or a clip too short to spare the time)."""
    if not name or frames / fps < MIN_CLIP_SECONDS:
        return None
    width, height = size
    card = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(card)
    font_size = max(16, round(min(width, height) * 0.075))
    font = ImageFont.truetype(str(HEADING_FONT), font_size)
    while font.getlength(name) > width * 0.82 and font_size > 14:
        font_size -= 2
        font = ImageFont.truetype(str(HEADING_FONT), font_size)
    shown = name if font.getlength(name) <= width * 0.82 else name[:40] + "…"
    draw.text((width / 2, height / 2), shown, font=font, fill=readable_on(colour, INK), anchor="mm")
    first = frames - round(SECONDS * fps)
    return EndCard(first, max(1, round(FADE_SECONDS * fps)), space.planes(np.asarray(card)), space.colour(colour))
