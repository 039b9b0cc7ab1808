"""The offline renderer: 1–3 product photos → a short H.264 product video, with no network and no account.

Each photo becomes a canvas once — the photo fitted whole into the frame's aspect over a blurred fill of itself,
converted to YUV 4:2:0 (BT.709), MAX_ZOOM times the frame size. Every frame is then one sub-pixel affine warp of
each plane of that canvas (two during a crossfade), written straight into the encoder's own pixel format: no
per-frame colour conversion, no per-frame scaling of the full photo, so the encoder dominates the cost. A producer
thread makes frames while the encoder works (OpenCV and PyAV both release the GIL); a short queue keeps memory flat.
"""

from __future__ import annotations

import io
import os
import queue
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from veo31.errors import InvalidMediaError
from veo31.media.encode import add_audio_stream, audio_bed_frames, open_mp4_writer
from veo31.media.motion import MAX_ZOOM, Move, preset
from veo31.media.planes import ColourSpace, Planes, plane_views
from veo31.media.priority import lower_this_thread
from veo31.media.probe import probe_video

SPACE = ColourSpace()  # BT.709, limited range: what HD video is, and what players assume of it


@dataclass(frozen=True)
class RenderSpec:
    width: int
    height: int
    fps: int = 30
    duration: float = 8.0
    use_case: str = "product_video"
    title: str | None = None
    audio: str = "bed"  # "bed" (a quiet generated pad) or "silence"
    crf: int = 21
    x264_preset: str = "superfast"
    threads: int = 0  # 0: the encoder's own choice

    @property
    def frame_count(self) -> int:
        return max(1, round(self.duration * self.fps))


# -- canvases -----------------------------------------------------------------------------------------------------


def load_photo(content: bytes) -> np.ndarray:
    """An upright RGB array of a JPEG, PNG or WebP photo."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise InvalidMediaError(f"a reference photo could not be read: {error}") from None


def compose_canvas(photo: np.ndarray, width: int, height: int) -> np.ndarray:
    """The photo whole, centred, over a blurred and dimmed fill of itself, at the frame's aspect (RGB)."""
    canvas_w, canvas_h = even(width * MAX_ZOOM), even(height * MAX_ZOOM)
    photo_h, photo_w = photo.shape[:2]
    fit = min(canvas_w / photo_w, canvas_h / photo_h)
    inner_w, inner_h = max(2, round(photo_w * fit)), max(2, round(photo_h * fit))
    if abs(inner_w - canvas_w) <= 2 and abs(inner_h - canvas_h) <= 2:
        return cv2.resize(photo, (canvas_w, canvas_h), interpolation=cv2.INTER_AREA)
    cover = max(canvas_w / photo_w, canvas_h / photo_h)
    small = cv2.resize(photo, (max(8, round(photo_w * cover / 8)), max(8, round(photo_h * cover / 8))), cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(small.shape[:2]) / 30)
    fill = cv2.resize(small, (round(photo_w * cover), round(photo_h * cover)), interpolation=cv2.INTER_LINEAR)
    top, left = (fill.shape[0] - canvas_h) // 2, (fill.shape[1] - canvas_w) // 2
    canvas = cv2.convertScaleAbs(fill[top : top + canvas_h, left : left + canvas_w], alpha=0.72)  # dimmed
    inner = cv2.resize(photo, (inner_w, inner_h), interpolation=cv2.INTER_AREA)
    y, x = (canvas_h - inner_h) // 2, (canvas_w - inner_w) // 2
    canvas[y : y + inner_h, x : x + inner_w] = inner
    return canvas


def even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


class LazyCanvas:
    """A photo's YUV canvas, composed on first use; indexable like the (Y, Cb, Cr) tuple it stands for."""

    def __init__(self, photo: np.ndarray, width: int, height: int) -> None:
        self._photo, self._size = photo, (width, height)
        self._planes: Planes | None = None

    def _made(self) -> Planes:
        if self._planes is None:
            self._planes = SPACE.planes(compose_canvas(self._photo, *self._size))
        return self._planes

    def __getitem__(self, index: int | slice) -> Any:
        return self._made()[index]


# -- frames -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shot:
    planes: Planes
    move: Move
    first: int  # the first frame of this photo's segment
    end: int  # one past its last frame; neighbours overlap by the crossfade

    def progress(self, index: int) -> float:
        return (index - self.first) / max(1, self.end - self.first - 1)


def plan_shots(canvases: Sequence[Planes], spec: RenderSpec) -> list[Shot]:
    """Split the clip between the photos; neighbours overlap by a crossfade of up to 0.6 s (a third of a shot)."""
    total, count = spec.frame_count, len(canvases)
    fade = 0 if count == 1 else min(round(0.6 * spec.fps), total // (3 * count))
    length = (total + fade * (count - 1)) / count
    move = preset(spec.use_case)
    shots = []
    for index, planes in enumerate(canvases):
        first = round(index * (length - fade))
        end = total if index == count - 1 else first + round(length)
        shots.append(Shot(planes, move, first, end))
    return shots


def view_matrix(move: Move, t: float, canvas_shape: tuple[int, ...], width: int, height: int) -> np.ndarray:
    """The affine map from canvas pixels to frame pixels for the camera at progress t."""
    zoom, cx, cy = move.at(t)
    canvas_h, canvas_w = canvas_shape[:2]
    scale = zoom * width / canvas_w  # frame pixels per canvas pixel
    return np.array(
        [[scale, 0, width / 2 - scale * cx * canvas_w], [0, scale, height / 2 - scale * cy * canvas_h]],
        dtype=np.float64,
    )


def warp_into(targets: Sequence[np.ndarray], shot: Shot, t: float) -> None:
    """Draw the shot at progress t into the three planes `targets`: one sub-pixel warp per plane."""
    luma = targets[0]
    matrix = view_matrix(shot.move, t, shot.planes[0].shape, luma.shape[1], luma.shape[0])
    _warp(shot.planes[0], matrix, luma)
    half = matrix.copy()
    half[:, 2] /= 2  # the same view on the half-size chroma planes
    for source, target in zip(shot.planes[1:], targets[1:], strict=True):
        _warp(source, half, target)


def _warp(source: np.ndarray, matrix: np.ndarray, target: np.ndarray) -> None:
    # The view never leaves the canvas, so the border mode only decides the outermost pixels' neighbours:
    # replicating them avoids a dark fringe at zoom 1, and skips the per-pixel bounds test (about 10 % faster).
    cv2.warpAffine(
        source,
        matrix,
        (target.shape[1], target.shape[0]),
        dst=target,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def draw_frame(frame: av.VideoFrame, shots: Sequence[Shot], index: int) -> None:
    """Frame `index` into `frame`: the active shot, or the crossfade of the two overlapping there."""
    active = [shot for shot in shots if shot.first <= index < shot.end][-2:]
    targets = plane_views(frame)
    warp_into(targets, active[0], active[0].progress(index))
    if len(active) == 2:
        outgoing, incoming = active
        weight = (index - incoming.first + 1) / (outgoing.end - incoming.first + 1)
        scratch = [np.empty_like(target) for target in targets]
        warp_into(scratch, incoming, incoming.progress(index))
        for target, other in zip(targets, scratch, strict=True):
            cv2.addWeighted(target, 1 - weight, other, weight, 0, dst=target)


# -- title card ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Title:
    top: int
    planes: Planes
    alpha: np.ndarray  # float32, full size; chroma uses every other pixel
    first: int


def make_title(text: str, spec: RenderSpec) -> Title:
    """A lower-third band with the product name, shown over the last 2 s (faded in and out)."""
    band_h = even(spec.height * 0.16)
    font_size = max(14, round(min(spec.width, spec.height) * 0.055))
    font = _font(font_size)
    band = Image.new("RGBA", (spec.width, band_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    draw.rectangle((0, 0, spec.width, band_h), fill=(12, 14, 18, 150))
    shown = text if draw.textlength(text, font=font) <= spec.width * 0.9 else text[:40] + "…"
    draw.text((spec.width / 2, band_h / 2), shown, font=font, fill=(255, 255, 255, 255), anchor="mm")
    rgba = np.asarray(band)
    alpha = rgba[..., 3].astype(np.float32) / 255
    planes = SPACE.planes(np.ascontiguousarray(rgba[..., :3]))
    top = even(spec.height * 0.78)
    return Title(top, planes, alpha, max(0, spec.frame_count - 2 * spec.fps))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in (
        "DejaVuSans-Bold.ttf",
        "LiberationSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def overlay_title(frame: av.VideoFrame, title: Title, index: int, spec: RenderSpec) -> None:
    shown = index - title.first
    span = spec.frame_count - title.first
    if shown < 0 or span <= 0:
        return
    fade = min(1.0, (shown + 1) / (0.4 * spec.fps), (span - shown) / (0.25 * spec.fps))
    alpha = title.alpha * max(0.0, fade)
    band_h = alpha.shape[0]
    luma, *chroma = plane_views(frame)
    rows = luma[title.top : title.top + band_h]
    rows[:] = (rows * (1 - alpha) + title.planes[0] * alpha).astype(np.uint8)
    half_alpha = alpha[::2, ::2]
    for plane, source in zip(chroma, title.planes[1:], strict=True):
        rows = plane[title.top // 2 : title.top // 2 + band_h // 2]
        rows[:] = (rows * (1 - half_alpha) + source * half_alpha).astype(np.uint8)


# -- the whole clip -----------------------------------------------------------------------------------------------


def frames(photos: Sequence[bytes], spec: RenderSpec) -> Iterator[av.VideoFrame]:
    """Every frame of the clip, in order, drawn straight into the encoder's frames (no copy)."""
    if not 1 <= len(photos) <= 3:
        raise InvalidMediaError(f"the local renderer takes 1–3 photos, not {len(photos)}")
    # Every photo is read now (a bad one fails before any frame), but the later canvases are made when their shot
    # comes: by then the encoder has frames to work on, so the cores are not left idle while they are made.
    loaded = [load_photo(content) for content in photos]
    canvases = [LazyCanvas(photo, spec.width, spec.height) for photo in loaded]
    shots = plan_shots(canvases, spec)  # type: ignore[arg-type]
    title = make_title(spec.title, spec) if spec.title else None
    for index in range(spec.frame_count):
        frame = av.VideoFrame(spec.width, spec.height, "yuv420p")
        draw_frame(frame, shots, index)
        if title is not None:
            overlay_title(frame, title, index, spec)
        frame.pts = index
        yield frame


def render_video(photos: Sequence[bytes], spec: RenderSpec, target: Path) -> Path:
    """Render to `target` (a fast-start MP4: H.264 + AAC), written under a temporary name and moved into place."""
    if spec.width % 2 or spec.height % 2:
        raise InvalidMediaError(f"frame size {spec.width}×{spec.height} must be even")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=".render-", suffix=".mp4", dir=target.parent)
    os.close(handle)
    try:
        encode(produce(frames(photos, spec)), spec, Path(scratch))
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
    return target


def produce(source: Iterator[av.VideoFrame], depth: int = 4) -> Iterator[av.VideoFrame]:
    """Run `source` in a thread, a few frames ahead of the consumer; its errors surface in the consumer."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        # Drawing yields to the encoder: x264's frame threads wait on one another, so a producer competing with
        # them as an equal lengthens the encode; at a lower priority it fills the cores they leave idle
        # (bench/render.py; docs/performance.md).
        lower_this_thread()
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        handoff.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(done)
        except Exception as error:  # noqa: BLE001 — handed to the consumer, which raises it
            handoff.put(error)

    thread = threading.Thread(target=work, name="veo31-render", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is done:
                return
            if isinstance(item, Exception):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=5)


def encode(source: Iterator[av.VideoFrame], spec: RenderSpec, path: Path) -> None:
    """H.264 (yuv420p, tagged BT.709) at `spec.fps` with an AAC track, audio interleaved with the video.

    The audio is encoded in step with the video, not on a thread of its own: with the encoder and the frame
    producer already using both cores, a third busy thread only made the whole slower (measured)."""
    with open_mp4_writer(path) as container:
        video = container.add_stream("libx264", rate=spec.fps)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        video.time_base = Fraction(1, spec.fps)
        video.codec_context.thread_count = spec.threads
        video.options = {
            "crf": str(spec.crf),
            "preset": spec.x264_preset,
            "profile": "high",
            "g": str(spec.fps * 2),
        }
        SPACE.tag(video.codec_context)
        audio = add_audio_stream(container)
        pending_audio = audio_bed_frames(spec.frame_count / spec.fps, quiet=spec.audio != "bed")
        for index, frame in enumerate(source):
            frame.pts = index
            container.mux(video.encode(frame))
            _mux_audio_until(container, audio, pending_audio, (index + 1) / spec.fps)
        container.mux(video.encode(None))
        _mux_audio_until(container, audio, pending_audio, float("inf"))
        container.mux(audio.encode(None))


def _mux_audio_until(
    container: av.container.OutputContainer, stream: av.AudioStream, pending: list[av.AudioFrame], until: float
) -> None:
    """Encode the audio frames that start before `until` seconds (so the file interleaves both tracks)."""
    while pending and (pending[0].pts or 0) / pending[0].sample_rate < until:
        container.mux(stream.encode(pending.pop(0)))


def encoder_problem() -> str | None:
    """None when this machine can render and encode (a tiny clip, end to end); otherwise why not."""
    with tempfile.TemporaryDirectory(prefix="veo31-encoder-check-") as folder:
        photo = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 40, 40)).save(photo, format="PNG")
        try:
            clip = render_video([photo.getvalue()], RenderSpec(64, 48, fps=24, duration=0.5), Path(folder) / "c.mp4")
            probe_video(clip)
        except (av.FFmpegError, InvalidMediaError, OSError) as error:
            return str(error)
    return None
