"""Photos of real-looking products that the tests draw themselves (Pillow, no downloads), each from a few parameters
— so a bad version of one (another colour, another word on its label, another logo, another shape) is the same
photo with one parameter changed."""

from __future__ import annotations

import colorsys
import io
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


@dataclass(frozen=True)
class Product:
    colour: tuple[int, int, int] = (178, 34, 52)  # the bottle's
    word: str = "BREW"  # the brand on its label
    logo: str = "sun"  # sun, crest or star
    shape: str = "bottle"  # bottle, or jar (another product's shape)
    width: int = 220  # the body's, in a 1200 × 800 photo
    scene: str = "studio"  # studio (a plain sweep) or table (a wall and a wooden top)

    def changed(self, **fields: object) -> Product:
        return replace(self, **fields)  # type: ignore[arg-type]


def hue_turned(colour: tuple[int, int, int], degrees: float) -> tuple[int, int, int]:
    h, light, s = colorsys.rgb_to_hls(*(channel / 255 for channel in colour))
    r, g, b = colorsys.hls_to_rgb((h + degrees / 360) % 1.0, light, s)
    return round(r * 255), round(g * 255), round(b * 255)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def photo(product: Product) -> Image.Image:
    image = _scene(product.scene)
    if product.width <= 0:  # the scene without it
        return image.filter(ImageFilter.GaussianBlur(0.5))
    draw = ImageDraw.Draw(image)
    left = 600 - product.width // 2
    right = left + product.width
    top, bottom = (190, 690) if product.shape == "bottle" else (330, 690)
    _body(image, product.colour, (left, top, right, bottom), rounded=40 if product.shape == "bottle" else 12)
    if product.shape == "bottle":
        draw.rectangle((600 - 38, top - 80, 600 + 38, top + 4), fill=(35, 35, 38))  # the cap
    label = (left + 18, top + 170 if product.shape == "bottle" else top + 60, right - 18, bottom - 70)
    draw.rounded_rectangle(label, radius=8, fill=(244, 240, 228))
    _logo(draw, product.logo, (600, label[1] + 62), 40, product.colour)
    draw.text((600, label[1] + 150), product.word, font=font(54), fill=(30, 28, 26), anchor="mm")
    draw.text((600, label[1] + 200), "ROASTED · 250 ml", font=font(20), fill=(90, 80, 70), anchor="mm")
    return image.filter(ImageFilter.GaussianBlur(0.5))


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


def _scene(kind: str) -> Image.Image:
    height, width = 800, 1200
    if kind == "table":
        rng = np.random.default_rng(3)
        wall = np.clip(rng.normal(170, 20, (height, width, 3)) + np.array([20, 8, -10]), 0, 255)
        wall[600:] = np.clip(np.array([140, 95, 60]) + rng.normal(0, 10, (height - 600, width, 3)), 0, 255)
        return Image.fromarray(wall.astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.5))
    ramp = np.linspace(252, 214, height)[:, None, None] * np.ones((1, width, 3))
    return Image.fromarray(ramp.astype(np.uint8))


def _body(image: Image.Image, colour: tuple[int, int, int], box: tuple[int, int, int, int], rounded: int) -> None:
    """A cylinder's shading: darker at the sides, a soft highlight left of the middle."""
    left, top, right, bottom = box
    xs = np.linspace(-1, 1, right - left)
    shade = 0.55 + 0.45 * np.sqrt(np.clip(1 - xs**2, 0, 1)) + 0.25 * np.exp(-((xs + 0.35) ** 2) / 0.02)
    body = np.clip(np.array(colour)[None, None, :] * shade[None, :, None], 0, 255).astype(np.uint8)
    body = np.repeat(body, bottom - top, axis=0)
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, right - left - 1, bottom - top - 1), radius=rounded, fill=255)
    image.paste(Image.fromarray(body), (left, top), mask)


def _logo(
    draw: ImageDraw.ImageDraw, kind: str, centre: tuple[int, int], size: int, colour: tuple[int, int, int]
) -> None:
    x, y = centre
    if kind == "sun":
        draw.ellipse((x - size // 2, y - size // 2, x + size // 2, y + size // 2), fill=colour)
        for angle in range(0, 360, 30):
            dx, dy = np.cos(np.radians(angle)), np.sin(np.radians(angle))
            draw.line((x + dx * size * 0.65, y + dy * size * 0.65, x + dx * size, y + dy * size), fill=colour, width=4)
    elif kind == "crest":
        draw.polygon(
            [(x - size, y - size), (x + size, y - size), (x + size, y), (x, y + size), (x - size, y)], fill=colour
        )
        draw.line((x - size, y - size // 3, x + size, y - size // 3), fill=(244, 240, 228), width=5)
    else:  # star
        points = []
        for index in range(10):
            radius = size if index % 2 == 0 else size * 0.42
            angle = np.radians(index * 36 - 90)
            points.append((x + radius * np.cos(angle), y + radius * np.sin(angle)))
        draw.polygon(points, fill=colour)
