"""Colours people read: WCAG 2's relative luminance and contrast ratio, the text colour that reads on a background,
and the open-licence fonts packaged with veo31 (DejaVu), so words look the same on every machine."""

from __future__ import annotations

from pathlib import Path

FONTS = Path(__file__).with_name("fonts")
HEADING_FONT, TEXT_FONT = FONTS / "DejaVuSans-Bold.ttf", FONTS / "DejaVuSans.ttf"
MIN_CONTRAST = 4.5  # WCAG AA for ordinary text
Colour = tuple[int, int, int]


def luminance(colour: tuple[float, float, float]) -> float:
    """Relative luminance (WCAG 2), of an sRGB colour with channels 0–255."""

    def linear(channel: float) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """WCAG's contrast ratio between two colours: 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(background: Colour, wished: Colour) -> Colour:
    """`wished` where it reads on `background` (≥ 4.5:1), else black or white, whichever reads best."""
    if contrast(wished, background) >= MIN_CONTRAST:
        return wished
    return max(((0, 0, 0), (255, 255, 255)), key=lambda candidate: contrast(candidate, background))
