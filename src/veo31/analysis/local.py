"""The local analyser: what the pixels of a product photo say, with no network and no account.

Per photo: the dominant colours with plain names (nearest named colour in CIE Lab), whether the background is a
plain studio sweep (a uniform border) or a scene, where the product sits and how much of the frame it fills,
orientation, brightness and contrast as lighting words, and sharpness (variance of the Laplacian). The photos'
notes are then merged into the description step 2 writes the prompt from.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageOps

from veo31.analysis.result import Analysis, Colour, ImageNotes, VideoNotes
from veo31.errors import InvalidMediaError
from veo31.media.subject import box_of, subject_mask

WORK_SIDE = 256  # analyse a small copy: colours and layout do not need more pixels
SHARPNESS_SIDE = 768

NAMED_COLOURS: dict[str, tuple[int, int, int]] = {
    "white": (248, 248, 248),
    "off-white": (236, 230, 218),
    "light grey": (196, 196, 196),
    "grey": (128, 128, 128),
    "dark grey": (64, 64, 64),
    "black": (16, 16, 16),
    "silver": (188, 190, 198),
    "red": (200, 30, 35),
    "dark red": (115, 20, 28),
    "pink": (238, 150, 180),
    "coral": (245, 120, 95),
    "orange": (240, 130, 30),
    "brown": (118, 74, 42),
    "tan": (196, 160, 120),
    "beige": (222, 205, 170),
    "gold": (205, 165, 55),
    "yellow": (240, 220, 45),
    "olive": (118, 118, 40),
    "green": (45, 160, 65),
    "dark green": (20, 80, 40),
    "mint": (160, 225, 190),
    "teal": (30, 128, 128),
    "turquoise": (60, 200, 200),
    "light blue": (150, 200, 240),
    "blue": (30, 80, 200),
    "navy": (22, 32, 88),
    "purple": (120, 50, 160),
    "lavender": (185, 165, 225),
    "magenta": (205, 40, 160),
}
_NAMES = list(NAMED_COLOURS)
_PALETTE_LAB = cv2.cvtColor(np.array([list(NAMED_COLOURS.values())], dtype=np.uint8), cv2.COLOR_RGB2LAB)[0].astype(
    np.float32
)


def load_rgb(content: bytes, max_side: int = SHARPNESS_SIDE) -> np.ndarray:
    """The photo as RGB, at most `max_side` on its longer side (nothing here looks at more pixels). A JPEG is
    decoded at a reduced DCT scale, so a large photo's full size never reaches memory."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.draft("RGB", (max_side, max_side))
            upright = ImageOps.exif_transpose(image).convert("RGB")
            upright.thumbnail((max_side, max_side), Image.Resampling.BOX)
            return np.asarray(upright)
    except (OSError, ValueError, SyntaxError):
        raise InvalidMediaError("a reference image could not be decoded for analysis", field="images") from None


def colour_name(rgb: Sequence[float]) -> str:
    lab = cv2.cvtColor(np.array([[rgb]], dtype=np.uint8), cv2.COLOR_RGB2LAB)[0, 0].astype(np.float32)
    return _NAMES[int(np.argmin(np.linalg.norm(_PALETTE_LAB - lab, axis=1)))]


def _shrink(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return rgb
    return cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def dominant_colours(pixels: np.ndarray, count: int = 4) -> list[Colour]:
    """k-means in Lab over the given pixels (N×3 RGB); the clusters as named colours with their shares."""
    samples = pixels.reshape(-1, 3)
    if len(samples) > 20_000:
        samples = samples[np.random.default_rng(0).choice(len(samples), 20_000, replace=False)]
    lab = cv2.cvtColor(samples.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB).reshape(-1, 3)
    k = max(1, min(count, len(np.unique(lab, axis=0))))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    _, labels, centres = cv2.kmeans(lab.astype(np.float32), k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=k) / len(labels)
    rgb_centres = cv2.cvtColor(centres.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_LAB2RGB).reshape(-1, 3)
    merged: dict[str, tuple[float, np.ndarray]] = {}
    for share, centre in sorted(zip(shares, rgb_centres, strict=True), key=lambda item: -item[0]):
        name = colour_name(centre)
        if name in merged:
            merged[name] = (merged[name][0] + float(share), merged[name][1])
        else:
            merged[name] = (float(share), centre)
    return [
        Colour(name=name, hex="#{:02x}{:02x}{:02x}".format(*(int(v) for v in centre)), share=round(share, 3))
        for name, (share, centre) in sorted(merged.items(), key=lambda item: -item[1][0])
    ]


def position_words(box: tuple[float, float, float, float]) -> str:
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    horizontal = "left" if cx < 0.4 else "right" if cx > 0.6 else ""
    vertical = "upper" if cy < 0.4 else "lower" if cy > 0.6 else ""
    if not horizontal and not vertical:
        return "centred"
    return " ".join(word for word in (vertical, horizontal) if word) + " of the frame"


def lighting_words(rgb: np.ndarray) -> tuple[float, float, str]:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lightness = lab[:, :, 0] * (100 / 255)
    brightness, contrast = float(lightness.mean()), float(lightness.std())
    warmth = float((lab[:, :, 2] - 128).mean())  # b*: yellow (+) vs blue (-)
    level = "bright" if brightness > 68 else "dim" if brightness < 38 else "balanced"
    spread = "high-contrast, dramatic" if contrast > 30 else "soft, even" if contrast < 16 else "moderate-contrast"
    tone = "warm" if warmth > 8 else "cool" if warmth < -6 else "neutral"
    return round(brightness, 1), round(contrast, 1), f"{level}, {spread}, {tone} light"


def sharpness_of(rgb: np.ndarray) -> tuple[float, str]:
    """Edge crispness, whatever the edges' contrast: the peak Laplacian over the peak gradient. For an edge blurred
    over σ pixels the gradient peaks at C/σ and the Laplacian at C/σ², so the ratio falls as 1/σ and C cancels
    (the plain variance of the Laplacian would call a clean studio shot with large flat areas blurred)."""
    gray = cv2.cvtColor(_shrink(rgb, SHARPNESS_SIDE), cv2.COLOR_RGB2GRAY).astype(np.float32)
    laplacian = np.percentile(np.abs(cv2.Laplacian(gray, cv2.CV_32F)), 99.5)
    gradient = np.percentile(cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)), 99.5)
    value = round(100 * float(laplacian) / max(float(gradient), 1e-6), 1)
    return value, "sharp" if value > 11 else "slightly soft" if value > 7.5 else "blurry"


def analyse_image(content: bytes, index: int = 0) -> ImageNotes:
    full = load_rgb(content)
    with Image.open(io.BytesIO(content)) as header:  # the photo's own size (intake already turned it upright)
        width, height = header.size
    rgb = _shrink(full, WORK_SIDE)
    mask, plain, background = subject_mask(rgb)
    box = box_of(mask)
    fill = float(mask.mean()) if plain else box[2] * box[3]
    subject_pixels = rgb[mask] if mask.sum() > 50 else rgb.reshape(-1, 3)
    colours = dominant_colours(subject_pixels)
    brightness, contrast, lighting = lighting_words(rgb)
    sharpness, focus = sharpness_of(full)
    ratio = width / height
    orientation = "landscape" if ratio > 1.1 else "portrait" if ratio < 0.9 else "square"
    background_name = colour_name(background) if plain else None
    position = position_words(box)
    setting = f"on a plain {background_name} studio background" if plain else "in a scene"
    notes = (
        f"A {orientation} photo of a mostly {colours[0].name} product {setting}, {position}, filling about "
        f"{round(fill * 100)}% of the frame; {lighting}; {focus}."
    )
    return ImageNotes(
        index=index,
        width=width,
        height=height,
        orientation=orientation,
        colours=colours,
        background="plain studio" if plain else "scene",
        background_colour=background_name,
        subject_box=box,
        subject_fill=round(min(1.0, fill), 3),
        subject_position=position,
        brightness=brightness,
        contrast=contrast,
        lighting=lighting,
        sharpness=sharpness,
        focus=focus,
        notes=notes,
    )


def materials_of(rgb: np.ndarray) -> list[str]:
    """Specular highlights (small, near-white, unsaturated spots inside the product) suggest gloss or metal."""
    mask, _, _ = subject_mask(rgb)
    if mask.sum() < 50:
        return ["surfaces the photos do not make clear"]
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[mask]
    highlights = float(((hsv[:, 2] > 235) & (hsv[:, 1] < 40)).mean())
    grey = float((hsv[:, 1] < 30).mean())
    if highlights > 0.02 and grey > 0.6:
        return ["metallic or chrome surfaces"]
    if highlights > 0.02:
        return ["glossy, reflective surfaces"]
    return ["matte surfaces"]


def analyse_images(
    images: Sequence[bytes], *, product_name: str | None = None, video: VideoNotes | None = None
) -> Analysis:
    """Analyse 0–3 photos (and take a reference video's notes) into one merged description."""
    notes = [analyse_image(content, index) for index, content in enumerate(images)]
    subject = product_name.strip() if product_name and product_name.strip() else "the product"
    if not notes:
        return _text_only(subject, video)
    first = notes[0]
    colours = list(dict.fromkeys(colour.name for note in notes for colour in note.colours if colour.share >= 0.12))
    plain = Counter(note.background for note in notes).most_common(1)[0][0] == "plain studio"
    background = (
        f"a plain {first.background_colour or 'neutral'} studio background"
        if plain
        else "a real setting around the product"
    )
    fill = sum(note.subject_fill for note in notes) / len(notes)
    lighting = Counter(note.lighting for note in notes).most_common(1)[0][0]
    composition = (
        f"{subject} {first.subject_position}, filling about {round(fill * 100)}% of a {first.orientation} "
        f"frame" + (f"; {len(notes)} views of it" if len(notes) > 1 else "")
    )
    if video is not None and video.camera_motion != "unknown":
        camera = f"as in the reference video: {video.camera_motion}, {video.pace} pace"
    else:
        camera = (
            "a slow push-in (the product already fills the frame)"
            if fill > 0.45
            else "a gentle arc and dolly-in toward the product"
        )
    mood = (
        "clean, bright e-commerce look"
        if plain and first.brightness > 60
        else "moody, premium look"
        if first.contrast > 28 or first.brightness < 40
        else "warm lifestyle feel"
        if "warm" in lighting
        else "natural, realistic look"
    )
    materials = materials_of(_shrink(load_rgb(images[0]), WORK_SIDE))
    summary = (
        f"{subject[:1].upper() + subject[1:]} is {', '.join(colours[:3]) or 'neutral'} with {materials[0]}, "
        f"shown on {background}; {composition}. The light is {lighting}. Suggested camera: {camera}. "
        f"Overall a {mood}."
    )
    caveats = [f"photo {note.index + 1} is {note.focus}" for note in notes if note.focus != "sharp"]
    return Analysis(
        analyzer="local",
        main_objects=[subject],
        materials=materials,
        colours=colours,
        lighting=lighting,
        camera_work=camera,
        composition=composition,
        background_surfaces=background,
        style_and_mood=mood,
        summary=summary,
        images=notes,
        video=video,
        notes=caveats,
    )


def _text_only(subject: str, video: VideoNotes | None) -> Analysis:
    judged = video is not None and video.camera_motion != "unknown"
    camera = f"as in the reference video: {video.camera_motion}, {video.pace} pace" if video and judged else "not set"
    return Analysis(
        analyzer="local",
        main_objects=[subject],
        materials=[],
        colours=[],
        lighting="not set",
        camera_work=camera,
        composition="not set",
        background_surfaces="not set",
        style_and_mood="not set",
        summary=f"No reference photos; {subject} is described by the prompt.",
        video=video,
        notes=["no reference photos to analyse"],
    )
