"""The channels a finished video is delivered for, each a data record: its size, how long and how large a file the
channel takes, the codec and profile it plays, the loudness it is mixed to, and the safe zone its app leaves free
of buttons and captions. The figures and their sources are in docs/channels.md; a channel that changes its spec
changes a record here, not code."""

from __future__ import annotations

import enum
from dataclasses import dataclass

MB = 1024 * 1024


class Container(enum.StrEnum):
    MP4 = "mp4"  # H.264 + AAC, the index first so playback starts before the download ends
    WEBP = "webp"  # an animated WebP: silent, looping, shown where a video tag is not (grids, e-mail)


@dataclass(frozen=True)
class SafeZone:
    """The share of the frame on each side that the channel's app may cover (buttons, captions, tabs): a logo,
    a price or a call to action goes inside, and so does the product."""

    top: float = 0.0
    bottom: float = 0.0
    left: float = 0.0
    right: float = 0.0

    @classmethod
    def even(cls, share: float) -> SafeZone:
        """The same margin on every side (a feed, a page: no app covers an edge more than another)."""
        return cls(top=share, bottom=share, left=share, right=share)

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The zone in pixels: left, top, right, bottom."""
        return (
            round(width * self.left),
            round(height * self.top),
            round(width * (1 - self.right)),
            round(height * (1 - self.bottom)),
        )


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    width: int
    height: int
    max_seconds: float  # the channel's limit (a longer source is cut, ending on the end card)
    max_bytes: int  # the channel's upload limit, or ours where a small file is the point
    container: Container = Container.MP4
    profile: str = "high"  # H.264 profile: `main` where a channel asks for it (Amazon)
    crf: int = 20  # the encoder's quality: lower is better and larger
    fps: int | None = None  # None: the source's rate
    audio: bool = True  # False: silent by design (a muted autoplay, a preview)
    loudness_lufs: float = -14.0  # integrated loudness of the mix (EBU R128), where there is sound
    true_peak_db: float = -1.0
    safe: SafeZone = SafeZone()
    loop: bool = False

    @property
    def aspect(self) -> float:
        return self.width / self.height


# Vertical apps cover their top (tabs), their bottom (caption, sound, subscribe) and a column on the right (like,
# comment, share): docs/channels.md gives each channel's figures and where they come from.
PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "instagram_feed",
            "Instagram feed (4:5)",
            1080,
            1350,
            max_seconds=60.0,
            max_bytes=4096 * MB,
            safe=SafeZone.even(0.04),
        ),
        Preset(
            "instagram_reel",
            "Instagram Reels (9:16)",
            1080,
            1920,
            max_seconds=180.0,
            max_bytes=4096 * MB,
            safe=SafeZone(top=0.14, bottom=0.35, left=0.06, right=0.06),
        ),
        Preset(
            "tiktok",
            "TikTok (9:16)",
            1080,
            1920,
            max_seconds=600.0,
            max_bytes=72 * MB,
            safe=SafeZone(top=0.06, bottom=0.16, left=0.04, right=0.14),
        ),
        Preset(
            "youtube_shorts",
            "YouTube Shorts (9:16)",
            1080,
            1920,
            max_seconds=180.0,
            max_bytes=4096 * MB,
            safe=SafeZone(top=0.08, bottom=0.25, left=0.06, right=0.14),
        ),
        Preset(
            "square",
            "Square (1:1)",
            1080,
            1080,
            max_seconds=60.0,
            max_bytes=4096 * MB,
            safe=SafeZone.even(0.04),
        ),
        Preset(
            "landscape",
            "Marketplace listing (16:9)",
            1920,
            1080,
            max_seconds=45.0,
            max_bytes=500 * MB,
            profile="main",
            fps=30,
            safe=SafeZone.even(0.05),
        ),
        Preset(
            "product_page",
            "Product page (16:9, small)",
            960,
            540,
            max_seconds=30.0,
            max_bytes=6 * MB,
            profile="main",
            crf=26,
            audio=False,  # a product page autoplays muted: sound would only add bytes
            safe=SafeZone.even(0.05),
        ),
        Preset(
            "preview",
            "Preview (animated WebP)",
            480,
            480,
            max_seconds=4.0,
            max_bytes=2 * MB,
            container=Container.WEBP,
            fps=12,
            audio=False,
            loop=True,
            safe=SafeZone.even(0.05),
        ),
    )
}
