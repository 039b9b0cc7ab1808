"""Short videos with a known camera move, made for tests (a textured plane filmed by a moving virtual camera)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

TEXTURE = cv2.normalize(
    cv2.GaussianBlur(np.random.default_rng(1).integers(0, 255, (900, 1600, 3), dtype=np.uint8), (0, 0), 3),
    None,
    0,
    255,
    cv2.NORM_MINMAX,
)


def write_video(path: Path, frames: list[np.ndarray], fps: int = 24) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode(None))
    return path


def view(x: int, y: int, width: int = 640) -> np.ndarray:
    height = width * 9 // 16
    return cv2.resize(TEXTURE[y : y + height, x : x + width], (320, 180), interpolation=cv2.INTER_AREA)


def zoomed(scale: float) -> np.ndarray:
    width = int(900 * scale)
    height = width * 9 // 16
    top, left = 450 - height // 2, 800 - width // 2
    return cv2.resize(TEXTURE[top : top + height, left : left + width], (320, 180), interpolation=cv2.INTER_AREA)


MOVES = {
    "pan right": [view(200 + 4 * i, 200) for i in range(72)],
    "pan left": [view(700 - 4 * i, 200) for i in range(72)],
    "tilt down": [view(400, 100 + 4 * i) for i in range(72)],
    "tilt up": [view(400, 400 - 4 * i) for i in range(72)],
    "push in": [zoomed(1 - i / 150) for i in range(72)],
    "pull out": [zoomed(0.55 + i / 150) for i in range(72)],
}


def video_bytes(tmp: Path, motion: str) -> bytes:
    return write_video(tmp / f"{motion.replace(' ', '-')}.mp4", MOVES[motion]).read_bytes()


# -- the commonest product shot: one product on a plain studio background ------------------------------------------

PRODUCT_PHOTO = Path(__file__).parent / "fixtures" / "product-on-white.jpg"
WINDOW = (1440, 810)  # the virtual camera's view of the studio, in studio pixels


def studio() -> np.ndarray:
    """The product photo (a red bottle on white) in the middle of a wider white sweep: little texture but the
    product's own edges, cap and label."""
    photo = cv2.cvtColor(cv2.imread(str(PRODUCT_PHOTO)), cv2.COLOR_BGR2RGB)
    canvas = np.full((1400, 2400, 3), 250, np.uint8)
    canvas[300:1100, 600:1800] = photo
    return canvas


def studio_view(canvas: np.ndarray, left: float, top: float, scale: float = 1.0) -> np.ndarray:
    """What a camera sees of the studio: a window at (left, top), `scale` times WINDOW's size, as 320×180."""
    width, height = WINDOW[0] * scale, WINDOW[1] * scale
    matrix = np.array([[width / 320, 0, left], [0, height / 180, top]], np.float32)
    return cv2.warpAffine(canvas, matrix, (320, 180), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_AREA)


def zoom_view(canvas: np.ndarray, scale: float) -> np.ndarray:
    """The window at `scale`, centred on the product."""
    return studio_view(canvas, 1200 - WINDOW[0] * scale / 2, 700 - WINDOW[1] * scale / 2, scale)


def turntable(frames: int = 48, degrees_per_frame: float = 3.0) -> list[np.ndarray]:
    """A labelled tin turning on a turntable before a white sweep, the camera still — what a camera circling the
    product sees: its silhouette stays put while its print slides across it, fastest in the middle."""
    rng = np.random.default_rng(5)
    label = cv2.GaussianBlur(rng.integers(0, 255, (120, 720, 3), dtype=np.uint8), (0, 0), 4)
    label = cv2.normalize(label, None, 0, 255, cv2.NORM_MINMAX)
    radius, top = 45, 30
    xs = np.arange(-radius + 1, radius)
    theta = np.arcsin(xs / radius)
    shade = (0.55 + 0.45 * np.cos(theta))[None, :, None]
    views = []
    for index in range(frames):
        phase = np.radians(index * degrees_per_frame)
        columns = (((theta + phase) / (2 * np.pi)) * label.shape[1]).astype(int) % label.shape[1]
        frame = np.full((180, 320, 3), 250, np.uint8)
        frame[top : top + 120, 160 + xs[0] : 160 + xs[-1] + 1] = (label[:, columns] * shade).astype(np.uint8)
        views.append(frame)
    return views


def studio_moves() -> dict[str, list[np.ndarray]]:
    """Two seconds of each camera move over the studio (24 fps), the product in view throughout."""
    canvas = studio()
    steps = range(48)
    rng = np.random.default_rng(3)
    still = studio_view(canvas, 480, 295)
    blank = np.full((180, 320, 3), 250, np.uint8)
    return {
        "pan right": [studio_view(canvas, 100 + 6 * i, 295) for i in steps],
        "pan left": [studio_view(canvas, 382 - 6 * i, 295) for i in steps],
        "tilt down": [studio_view(canvas, 480, 200 + 4 * i) for i in steps],
        "tilt up": [studio_view(canvas, 480, 388 - 4 * i) for i in steps],
        "push in": [zoom_view(canvas, 1 - i / 200) for i in steps],
        "pull out": [zoom_view(canvas, 0.765 + i / 200) for i in steps],
        "orbit-like": turntable(),
        "static": [np.clip(still + rng.integers(-2, 3, still.shape), 0, 255).astype(np.uint8) for _ in steps],
        "unknown": [cv2.GaussianBlur(blank, (0, 0), 1) for _ in steps],
    }
