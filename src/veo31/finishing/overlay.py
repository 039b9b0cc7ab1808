"""A brand kit drawn onto a deliverable's frames: the logo in its corner, the product's name and price on a panel of
the kit's background colour, and the end card (logo, name, price, call to action) over the last seconds — every
one inside the preset's safe zone. Words are never faded: a half-transparent word over a moving picture reads worse
than 4.5:1; the end card's background fades in first, then its words appear whole on it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from veo31.finishing.brand import FONT_FILES, FONTS, BrandKit, readable_on, rgb
from veo31.finishing.presets import Preset
from veo31.media.planes import ColourSpace, Planes

FADE_SECONDS = 0.3
LINES_FROM_SECONDS = 0.5  # the name and price appear once the viewer has seen the product


@dataclass(frozen=True)
class Branding:
    """What a deliverable carries onto its frames (picklable: it travels to a media process)."""

    kit: BrandKit
    logo: bytes | None  # a PNG, transparency kept
    product_name: str | None = None
    price: str | None = None
    music: bytes | None = None  # a sound file, mixed under the clip's own sound


@dataclass
class Layer:
    """An RGBA picture placed at (left, top) of the frame (both even), kept as the video's planes and opacity."""

    left: int
    top: int
    planes: tuple[np.ndarray, np.ndarray, np.ndarray]  # float32
    alpha: tuple[np.ndarray, np.ndarray]  # float32, 0–1: full size (for Y) and half size (for Cb, Cr)

    @classmethod
    def of(cls, image: Image.Image, left: int, top: int, space: ColourSpace) -> Layer:
        image = image.convert("RGBA")
        if image.width % 2 or image.height % 2:  # 4:2:0 pictures come in pairs of pixels
            padded = Image.new("RGBA", (image.width + image.width % 2, image.height + image.height % 2), (0, 0, 0, 0))
            padded.paste(image, (0, 0))
            image = padded
        pixels = np.asarray(image)
        alpha = pixels[..., 3].astype(np.float32) / 255.0
        ycc = cv2.transform(np.ascontiguousarray(pixels[..., :3]), space.forward()).astype(np.float32)
        size = (alpha.shape[1] // 2, alpha.shape[0] // 2)
        half = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        # Chroma weighted by opacity as it is halved, so a transparent pixel's colour cannot bleed into an edge.
        weighted = cv2.resize(ycc[..., 1:] * alpha[..., None], size, interpolation=cv2.INTER_AREA)
        chroma = weighted / np.maximum(half, 1e-6)[..., None]
        planes = (ycc[..., 0], chroma[..., 0], chroma[..., 1])
        return cls(left - left % 2, top - top % 2, planes, (alpha, half))

    def over(self, frame: Planes) -> None:
        for index, (plane, colour) in enumerate(zip(frame, self.planes, strict=True)):
            alpha = self.alpha[0 if index == 0 else 1]
            shift = 0 if index == 0 else 1
            top, left = self.top >> shift, self.left >> shift
            height, width = alpha.shape
            region = plane[top : top + height, left : left + width]
            region[:] = (colour * alpha + region * (1 - alpha)).astype(np.uint8)


class Overlay:
    """The kit, laid out once for one preset and length; `apply` draws it on frame `index` of `frames`."""

    def __init__(
        self,
        branding: Branding,
        preset: Preset,
        frames: int,
        fps: float,
        space: ColourSpace,
        product: Sequence[tuple[float, float, float, float]] = (),
    ) -> None:
        """`product`: where the product is in each frame (left, top, right, bottom), so the lines keep clear of it."""
        self.frames, self.preset, self.space, self.product = frames, preset, space, product
        kit = branding.kit
        self.background = rgb(kit.background)
        self.safe = preset.safe.box(preset.width, preset.height)
        self.logo = _logo(branding.logo)
        self.corner = self._corner_logo(kit) if self.logo else None
        self.lines_from = round(LINES_FROM_SECONDS * fps)
        self.panel = self._panel(branding)
        self.end_frames = min(round(kit.end_card_seconds * fps), frames // 2)
        self.fade_frames = max(1, round(FADE_SECONDS * fps))
        self.card = space.planes(self._card(branding))
        self.card_colour = space.colour(self.background)

    def apply(self, frame: Planes, index: int) -> Planes:
        """Frame `index` with the kit drawn on it (the planes are drawn on in place)."""
        into_card = index - (self.frames - self.end_frames)
        if into_card >= self.fade_frames:
            return self.card
        if into_card >= 0:  # the card's background fading in, its words not yet
            share = (into_card + 1) / (self.fade_frames + 1)
            for plane, value in zip(frame, self.card_colour, strict=True):
                plane[:] = (plane * (1 - share) + value * share).astype(np.uint8)
            return frame
        if self.corner is not None:
            self.corner.over(frame)
        if self.panel is not None and index >= self.lines_from:
            self.panel.over(frame)
        return frame

    def _corner_logo(self, kit: BrandKit) -> Layer:
        assert self.logo is not None
        left, top, right, bottom = self.safe
        margin = round(self.preset.width * 0.02)
        logo = _fit(self.logo, round(self.preset.width * 0.16), round(self.preset.height * 0.10))
        x = left + margin if kit.logo_corner.endswith("left") else right - margin - logo.width
        y = top + margin if kit.logo_corner.startswith("top") else bottom - margin - logo.height
        return Layer.of(logo, x, y, self.space)

    def _panel(self, branding: Branding) -> Layer | None:
        """The name and price on a solid panel, centred at the foot of the safe zone — or at its head when the
        product stands there more often (below the logo, if the logo is at the top)."""
        words = [text for text in (branding.product_name, branding.price) if text]
        if not words:
            return None
        left, _, right, bottom = self.safe
        size = max(14, round(self.preset.height * 0.035))
        heading, _ = _fonts(branding.kit.font, size)
        ink = readable_on(self.background, rgb(branding.kit.text))
        text = " · ".join(words)
        font = _shrunk(heading, text, (right - left) * 0.9)
        padding = size // 2
        box = font.getbbox(text)
        panel = Image.new(
            "RGBA", (int(box[2] - box[0]) + 2 * padding, int(box[3] - box[1]) + 2 * padding), (0, 0, 0, 0)
        )
        draw = ImageDraw.Draw(panel)
        draw.rounded_rectangle((0, 0, panel.width - 1, panel.height - 1), radius=padding, fill=(*self.background, 255))
        draw.text((padding - box[0], padding - box[1]), text, font=font, fill=(*ink, 255))
        x = (left + right - panel.width) // 2
        gap = round(self.preset.height * 0.02)
        below_logo = self.corner.top + self.corner.alpha[0].shape[0] if self.corner and kit_top(branding.kit) else 0
        foot, head = bottom - panel.height - gap, max(self.safe[1] + gap, below_logo + gap)
        y = min((foot, head), key=lambda top: self._covers(x, top, panel.width, panel.height))
        return Layer.of(panel, x, y, self.space)

    def _covers(self, left: int, top: int, width: int, height: int) -> float:
        """How much of the product a panel there would hide, over the frames it is shown (in frame-pixels)."""
        hidden = 0.0
        for box_left, box_top, box_right, box_bottom in self.product[self.lines_from :]:
            across = max(0.0, min(left + width, box_right) - max(left, box_left))
            down = max(0.0, min(top + height, box_bottom) - max(top, box_top))
            hidden += across * down
        return hidden

    def _card(self, branding: Branding) -> np.ndarray:
        """The end card: the kit's background, the logo, the name, the price and the call to action, centred in
        the safe zone, every word in a colour that reads on what is behind it."""
        kit = branding.kit
        card = Image.new("RGB", (self.preset.width, self.preset.height), self.background)
        draw = ImageDraw.Draw(card)
        left, top, right, bottom = self.safe
        width = right - left
        size = max(16, round(min(width, bottom - top) * 0.07))
        heading, regular = _fonts(kit.font, size)
        ink = readable_on(self.background, rgb(kit.text))
        pieces: list[tuple[str, Image.Image | tuple[str, ImageFont.FreeTypeFont]]] = []
        if self.logo is not None:
            pieces.append(("logo", _fit(self.logo, round(width * 0.5), round((bottom - top) * 0.3))))
        for text, font in ((branding.product_name, heading), (branding.price, regular), (kit.cta, regular)):
            if text:
                pieces.append(("cta" if text == kit.cta else "text", (text, _shrunk(font, text, width * 0.9))))
        heights = [_height(piece) for _, piece in pieces]
        gap = size // 2
        y = (top + bottom - sum(heights) - gap * max(0, len(pieces) - 1)) // 2
        for (kind, piece), height in zip(pieces, heights, strict=True):
            if isinstance(piece, Image.Image):
                card.paste(piece, ((left + right - piece.width) // 2, y), piece)
            else:
                text, font = piece
                box = font.getbbox(text)
                x = (left + right - (box[2] - box[0])) // 2 - box[0]
                colour = ink
                if kind == "cta":  # a button in the kit's accent, its words readable on it
                    accent = rgb(kit.primary)
                    pad = gap // 2
                    draw.rounded_rectangle(
                        (x + box[0] - 2 * pad, y - pad, x + box[2] + 2 * pad, y + height + pad), radius=pad, fill=accent
                    )
                    colour = readable_on(accent, rgb(kit.text))
                draw.text((x, y - box[1]), text, font=font, fill=colour)
            y += height + gap
        return np.asarray(card, dtype=np.uint8)


def kit_top(kit: BrandKit) -> bool:
    return kit.logo_corner.startswith("top")


def _logo(content: bytes | None) -> Image.Image | None:
    if not content:
        return None
    with Image.open(io.BytesIO(content)) as image:
        return image.convert("RGBA")


def _fit(image: Image.Image, width: int, height: int) -> Image.Image:
    scale = min(width / image.width, height / image.height)
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)


def _fonts(name: str, size: int) -> tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont]:
    heading, regular = FONT_FILES[name]
    return ImageFont.truetype(str(FONTS / heading), size), ImageFont.truetype(str(FONTS / regular), round(size * 0.8))


def _shrunk(font: ImageFont.FreeTypeFont, text: str, width: float) -> ImageFont.FreeTypeFont:
    while font.getlength(text) > width and font.size > 12:
        font = ImageFont.truetype(font.path, font.size - 2)
    return font


def _height(piece: Image.Image | tuple[str, ImageFont.FreeTypeFont]) -> int:
    if isinstance(piece, Image.Image):
        return piece.height
    text, font = piece
    box = font.getbbox(text)
    return int(box[3] - box[1])
