"""The offline renderer: 1–3 product photos → a short H.264 product video, with no network and no account.

Each photo becomes its canvas once, as YUV 4:2:0 (BT.709) planes MAX_ZOOM times the frame size: in the studio look
(`media.studio`) two layers — the product lifted off its backdrop and scaled to fill the frame, and the backdrop
extended in its own colours — in the flat look the photo whole over a blurred fill of itself. Every frame is then a
few sub-pixel affine warps of those planes (the layers apart, for parallax; two shots during a crossfade), written
straight into the encoder's own pixel format: no per-frame colour conversion, no per-frame scaling of the full
photo. The studio look ends on a card with the product's name (`media.endcard`) over a musical bed (`media.music`).
A producer thread makes frames while the encoder works (OpenCV and PyAV both release the GIL); a short queue keeps
memory flat.
"""

from __future__ import annotations

import io
import os
import queue
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av
import cv2
import numpy as np
from PIL import Image, ImageOps

from veo31.errors import InvalidMediaError
from veo31.media import studio
from veo31.media.encode import add_audio_stream, audio_bed_frames, open_mp4_writer
from veo31.media.endcard import end_card
from veo31.media.motion import MAX_ZOOM, Move, camera, preset
from veo31.media.music import bed
from veo31.media.planes import ColourSpace, Planes, even, plane_views, warp_into
from veo31.media.priority import lower_this_thread
from veo31.media.probe import probe_video
from veo31.media.sound import frames_of

SPACE = ColourSpace()  # BT.709, limited range: what HD video is, and what players assume of it


class Look(StrEnum):
    """How the photos are shown. STUDIO: the product lifted off its backdrop and moved with depth, a light sweep,
    an end card with its name, a musical bed (`media.studio`). FLAT: each photo whole over a blurred fill of itself,
    panned and zoomed, a soft pad for sound — what the emulators return as a provider's clip."""

    STUDIO = "studio"
    FLAT = "flat"


@dataclass(frozen=True)
class RenderSpec:
    width: int
    height: int
    fps: int = 30
    duration: float = 8.0
    use_case: str = "product_video"
    title: str | None = None
    audio: str = "bed"  # "bed" (music, or a soft pad in the flat look) or "silence"
    look: Look = Look.STUDIO
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

    def release(self) -> None:
        self._planes = None

    def draw(self, targets: Sequence[np.ndarray], move: Move, t: float) -> None:
        """The photo at shot progress t into the frame's planes: one sub-pixel warp per plane."""
        luma = targets[0]
        warp_into(self._made(), camera(move.at(t), self[0].shape, luma.shape[1], luma.shape[0]), targets)


class LazyLayers:
    """A photo's studio layers (`media.studio`), made on first use."""

    def __init__(self, photo: np.ndarray, width: int, height: int) -> None:
        self._photo, self._size = photo, (width, height)
        self._layers: studio.Layers | None = None

    @property
    def made(self) -> studio.Layers:
        if self._layers is None:
            self._layers = studio.layers(self._photo, *self._size)
        return self._layers

    def draw(self, targets: Sequence[np.ndarray], move: Move, t: float) -> None:
        studio.draw(self.made, move, t, targets)

    def release(self) -> None:
        self._layers = None


class Scene(Protocol):
    def draw(self, targets: Sequence[np.ndarray], move: Move, t: float) -> None: ...

    def release(self) -> None:
        """Its shot is over: its planes may go (a clip of three photos then holds at most two at once)."""


# -- frames -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shot:
    scene: Scene
    move: Move
    first: int  # the first frame of this photo's segment
    end: int  # one past its last frame; neighbours overlap by the crossfade

    def progress(self, index: int) -> float:
        return (index - self.first) / max(1, self.end - self.first - 1)


def plan_shots(canvases: Sequence[Scene], spec: RenderSpec) -> list[Shot]:
    """Split the clip between the photos; neighbours overlap by a crossfade of up to 0.6 s (a third of a shot)."""
    total, count = spec.frame_count, len(canvases)
    fade = 0 if count == 1 else min(round(0.6 * spec.fps), total // (3 * count))
    length = (total + fade * (count - 1)) / count
    move = preset(spec.use_case)
    shots = []
    for index, scene in enumerate(canvases):
        first = round(index * (length - fade))
        end = total if index == count - 1 else first + round(length)
        shots.append(Shot(scene, move, first, end))
    return shots


def draw_frame(frame: av.VideoFrame, shots: Sequence[Shot], index: int) -> None:
    """Frame `index` into `frame`: the active shot, or the crossfade of the two overlapping there."""
    active = [shot for shot in shots if shot.first <= index < shot.end][-2:]
    targets = plane_views(frame)
    active[0].scene.draw(targets, active[0].move, active[0].progress(index))
    if len(active) == 2:
        outgoing, incoming = active
        weight = (index - incoming.first + 1) / (outgoing.end - incoming.first + 1)
        scratch = [np.empty_like(target) for target in targets]
        incoming.scene.draw(scratch, incoming.move, incoming.progress(index))
        for target, other in zip(targets, scratch, strict=True):
            cv2.addWeighted(target, 1 - weight, other, weight, 0, dst=target)


# -- the whole clip -----------------------------------------------------------------------------------------------


def frames(photos: Sequence[bytes], spec: RenderSpec) -> Iterator[av.VideoFrame]:
    """Every frame of the clip, in order, drawn straight into the encoder's frames (no copy)."""
    if not 1 <= len(photos) <= 3:
        raise InvalidMediaError(f"the local renderer takes 1–3 photos, not {len(photos)}")
    # Every photo is read now (a bad one fails before any frame), but the later canvases are made when their shot
    # comes: by then the encoder has frames to work on, so the cores are not left idle while they are made.
    loaded = [load_photo(content) for content in photos]
    card = None
    if spec.look is Look.STUDIO:
        layered = [LazyLayers(photo, spec.width, spec.height) for photo in loaded]
        scenes: list[Scene] = list(layered)
        if spec.title:
            colour = layered[-1].made.colour  # the card takes the last photo's backdrop colour
            card = end_card(spec.title, colour, (spec.width, spec.height), spec.fps, spec.frame_count, SPACE)
    else:
        scenes = [LazyCanvas(photo, spec.width, spec.height) for photo in loaded]
    shots = plan_shots(scenes, spec)
    for index in range(spec.frame_count):
        frame = av.VideoFrame(spec.width, spec.height, "yuv420p")
        if card is None or not card.covers(index):  # under the card alone there is nothing to draw
            draw_frame(frame, shots, index)
        if card is not None:
            card.over(plane_views(frame), index)
        for shot in shots:
            if shot.end == index + 1:
                shot.scene.release()
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
        pending_audio = sound_of(spec)
        for index, frame in enumerate(source):
            frame.pts = index
            container.mux(video.encode(frame))
            _mux_audio_until(container, audio, pending_audio, (index + 1) / spec.fps)
        container.mux(video.encode(None))
        _mux_audio_until(container, audio, pending_audio, float("inf"))
        container.mux(audio.encode(None))


def sound_of(spec: RenderSpec) -> list[av.AudioFrame]:
    """The clip's sound as frames: the music bed (studio), the soft pad (flat), or silence."""
    seconds = spec.frame_count / spec.fps
    if spec.look is Look.STUDIO and spec.audio == "bed":
        return frames_of(bed(seconds))
    return audio_bed_frames(seconds, quiet=spec.audio != "bed")


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
