"""A brand kit: the logo, the colours and the words a shop puts on every channel version — the logo in a corner, the
product's name and price, a call to action, and an end card — and the readability rule the text keeps (WCAG's
contrast ratio, at least 4.5:1 against what is behind it)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from veo31.media.colour import FONTS, MIN_CONTRAST, contrast, luminance, readable_on

__all__ = ["FONTS", "FONT_FILES", "MIN_CONTRAST", "BrandKit", "contrast", "luminance", "readable_on", "rgb"]

FONT_FILES = {"dejavu-sans": ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")}  # (headings, lines): open-licence, packaged
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

Corner = Literal["top_left", "top_right", "bottom_left", "bottom_right"]


class BrandKit(BaseModel):
    """What a kit says, as a person fills it in (the logo is stored beside it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    primary: str = Field(default="#1f5fd1", description="the accent: the call to action's button")
    text: str = Field(default="#ffffff", description="the colour of the words (changed where it would not read)")
    background: str = Field(default="#111111", description="the end card and the panels behind words")
    font: Literal["dejavu-sans"] = "dejavu-sans"
    logo_corner: Corner = "top_right"
    cta: str | None = Field(default=None, max_length=40, description="a call to action, e.g. 'Shop now'")
    end_card_seconds: float = Field(default=2.0, ge=1.5, le=3.0)

    @field_validator("primary", "text", "background")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not HEX.match(value):
            raise ValueError(f"{value[:20]!r} is no colour: write it as #RRGGBB, e.g. #1f5fd1")
        return value.lower()


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
