"""The labelled evaluation set of the quality gate, built here from drawn products (tests/products.py): good clips —
the product filmed by a moving camera (pans, zooms, small rotations, a turntable-like turn, light changes, a low
bitrate) — and bad ones, each with one defect (a turned hue, a changed word, a swapped logo, another shape, another
product, the product gone for most of the clip, black, frozen, silent, the wrong size). `bench/quality.py` measures
the gate on it; the tests assert on it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.products import Product, hue_turned, jpeg, photo
from veo31.media.encode import add_audio_stream, audio_bed_frames, open_mp4_writer
from veo31.quality.gate import CheckRequest

FPS = 24
SECONDS = 4


@dataclass(frozen=True)
class Camera:
    """Where the virtual camera looks at moment t (0–1): the photo's point at the frame's centre, how much of
    the photo's height the frame shows, a roll, a horizontal squeeze (a turn), and the light."""

    centre: Callable[[float], tuple[float, float]] = lambda t: (600.0, 400.0)
    height: Callable[[float], float] = lambda t: 700.0
    roll: Callable[[float], float] = lambda t: 0.0
    squeeze: Callable[[float], float] = lambda t: 1.0
    light: Callable[[float], float] = lambda t: 1.0
    warmth: Callable[[float], float] = lambda t: 0.0


@dataclass(frozen=True)
class Case:
    name: str
    defect: str | None  # None: a good clip; else the kind of defect
    product: Product  # what the reference photo shows
    clip: Path
    asked: CheckRequest
    fails: tuple[str, ...] = ()  # the check kinds that may catch the defect (one of them must)

    @property
    def good(self) -> bool:
        return self.defect is None

    def reference(self) -> bytes:
        return jpeg(photo(self.product))


SLOW_PAN = Camera(centre=lambda t: (560.0 + 80 * t, 400.0))


def film(
    target: Path,
    shown: Callable[[float], np.ndarray],
    camera: Camera,
    *,
    size: tuple[int, int] = (640, 360),
    crf: int = 20,
    audio: str | None = "bed",
    fps: int = FPS,
    seconds: float = SECONDS,
) -> Path:
    """Film `shown(t)` (the photo, as it is at moment t) with the camera, as an H.264 MP4 (with sound unless not)."""
    width, height = size
    frames = round(seconds * fps)
    with open_mp4_writer(target) as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": str(crf)}
        sound = add_audio_stream(container) if audio else None
        for index in range(frames):
            t = index / max(1, frames - 1)
            picture = _look(shown(t), camera, t, width, height)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
        if sound is not None:
            for frame in audio_bed_frames(seconds, quiet=audio == "silence"):
                container.mux(sound.encode(frame))
            container.mux(sound.encode(None))
    return target


def _look(picture: np.ndarray, camera: Camera, t: float, width: int, height: int) -> np.ndarray:
    cx, cy = camera.centre(t)
    scale = height / camera.height(t)
    angle = math.radians(camera.roll(t))
    squeeze = camera.squeeze(t)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    linear = rotation @ np.diag([scale * squeeze, scale])
    offset = np.array([width / 2, height / 2]) - linear @ np.array([cx, cy])
    matrix = np.hstack([linear, offset[:, None]])
    framed = cv2.warpAffine(picture, matrix, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
    lit = framed.astype(np.float32) * camera.light(t)
    lit[..., 0] += 18 * camera.warmth(t)
    lit[..., 2] -= 18 * camera.warmth(t)
    return np.clip(lit, 0, 255).astype(np.uint8)


def still(product: Product) -> Callable[[float], np.ndarray]:
    picture = np.asarray(photo(product))
    return lambda t: picture


def gone_after(product: Product, share: float) -> Callable[[float], np.ndarray]:
    """The product for the first `share` of the clip, then only its background."""
    with_it = np.asarray(photo(product))
    without = np.asarray(photo(product.changed(width=0)))
    return lambda t: with_it if t < share else without


def warped(product: Product) -> Callable[[float], np.ndarray]:
    """The product's outline melted: rows of the product area pushed sideways by a wave."""
    picture = np.asarray(photo(product))
    height, width = picture.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    inside = (np.abs(xs - 600) < 200) & (ys > 80) & (ys < 720)
    map_x = xs + np.where(inside, 28 * np.sin(ys / 45.0), 0).astype(np.float32)
    melted = cv2.remap(picture, map_x, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return lambda t: melted


def build(folder: Path, *, size: tuple[int, int] = (640, 360), seconds: float = SECONDS) -> list[Case]:
    """The whole set, written into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    base, table = Product(), Product(scene="table", colour=(30, 80, 170), word="LUMA", logo="star")
    width, height = size
    asked = CheckRequest(duration=seconds, resolution=f"{width}x{height}", fps=FPS, audio=True)
    cases: list[Case] = []

    def add(
        name: str,
        defect: str | None,
        product: Product,
        shown: Callable[[float], np.ndarray],
        camera: Camera = SLOW_PAN,
        fails: tuple[str, ...] = (),
        **options: object,
    ) -> None:
        clip = film(
            folder / f"{name}.mp4", shown, camera, size=options.pop("film_size", size), seconds=seconds, **options
        )  # type: ignore[arg-type]
        cases.append(Case(name, defect, product, clip, asked, fails))

    add("pan", None, base, still(base))
    add("pan-table", None, table, still(table))
    add(
        "push-in",
        None,
        base,
        still(base),
        Camera(centre=lambda t: (600.0, 420.0 + 40 * t), height=lambda t: 760 - 300 * t),
    )
    add("roll", None, base, still(base), Camera(roll=lambda t: -7 + 14 * t))
    add("turn", None, table, still(table), Camera(squeeze=lambda t: 0.75 + 0.25 * math.cos(2 * math.pi * t)))
    add("light", None, base, still(base), Camera(light=lambda t: 0.75 + 0.4 * t, warmth=lambda t: t))
    add("low-bitrate", None, table, still(table), crf=40)
    add("hue", "colour", base, still(base.changed(colour=hue_turned(base.colour, 140))), fails=("colour",))
    add("hue-table", "colour", table, still(table.changed(colour=hue_turned(table.colour, 110))), fails=("colour",))
    add("label", "label", base, still(base.changed(word="BRWE")), fails=("label", "detail"))
    add("logo", "logo", base, still(base.changed(logo="crest")), fails=("detail",))
    add("logo-table", "logo", table, still(table.changed(logo="sun")), fails=("detail",))
    add("shape", "shape", base, warped(base), fails=("detail",))
    add(
        "other",
        "other product",
        base,
        still(Product(colour=(40, 120, 60), word="MOSS", logo="star", shape="jar")),
        fails=("product", "colour", "detail"),  # the same brand's label on another product: alike, not the same
    )
    add("missing", "missing", base, gone_after(base, 0.25), fails=("product",))
    add(
        "black",
        "black",
        base,
        lambda t: np.zeros((800, 1200, 3), np.uint8) if 0.2 < t < 0.8 else np.asarray(photo(base)),
        fails=("black",),
    )
    frozen_picture = np.asarray(photo(base))
    add(
        "frozen",
        "frozen",
        base,
        lambda t: frozen_picture,
        Camera(centre=lambda t: (560.0 + 80 * min(t, 0.3), 400.0)),
        fails=("frozen",),
    )
    add("silent", "silent", base, still(base), audio="silence", fails=("audio",))
    add("wrong-size", "wrong size", base, still(base), film_size=(480, 270), fails=("resolution",))
    return cases
