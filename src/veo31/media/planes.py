"""Pictures as YUV 4:2:0 planes — the encoder's own format — and the colour space that turns RGB into them.

Frames are decoded, cut, drawn on and encoded as planes: converting a 1080p frame to RGB and back costs more than
cutting it, and each conversion can shift colours. Only what is drawn (a logo, a line of text, a card) is converted,
once, in the colour space of the video it goes into, which the output is tagged with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import av
import cv2
import numpy as np

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]  # Y (full size), Cb and Cr (half size each way), uint8

# FFmpeg's AVColorSpace, primaries and transfer numbers for the spaces a product clip comes in.
BT709, UNSPECIFIED, BT470BG, SMPTE170M = 1, 2, 5, 6
_LUMA_WEIGHTS = {BT709: (0.2126, 0.0722), BT470BG: (0.299, 0.114), SMPTE170M: (0.299, 0.114)}  # Kr, Kb


@dataclass(frozen=True)
class ColourSpace:
    """A video's YUV matrix and range (with its primaries and transfer, carried to the output as tags)."""

    matrix: int = BT709
    full_range: bool = False
    primaries: int = BT709
    transfer: int = BT709

    @classmethod
    def of(cls, frame: av.VideoFrame) -> ColourSpace:
        """The frame's own space; an untagged one read as players do (BT.709 from 720 lines up, else BT.601)."""
        guess = BT709 if frame.height >= 720 else SMPTE170M
        matrix = frame.colorspace if frame.colorspace in _LUMA_WEIGHTS else guess
        primaries = frame.color_primaries if frame.color_primaries != UNSPECIFIED else matrix
        transfer = frame.color_trc if frame.color_trc != UNSPECIFIED else BT709
        full = frame.color_range == 2 or frame.format.name.startswith("yuvj")
        return cls(matrix, full, primaries, transfer)

    def tag(self, context: av.video.codeccontext.VideoCodecContext) -> None:
        """Write this space into an encoder's stream headers, so players convert back the way it was made."""
        context.colorspace = self.matrix
        context.color_range = 2 if self.full_range else 1
        context.color_primaries = self.primaries
        context.color_trc = self.transfer

    def _rows(self) -> np.ndarray:
        kr, kb = _LUMA_WEIGHTS[self.matrix]
        kg = 1 - kr - kb
        rows = np.array(
            [
                [kr, kg, kb],
                [-kr / (2 - 2 * kb), -kg / (2 - 2 * kb), 0.5],
                [0.5, -kg / (2 - 2 * kr), -kb / (2 - 2 * kr)],
            ]
        )
        return rows if self.full_range else rows * np.array([[219 / 255], [224 / 255], [224 / 255]])

    def forward(self) -> np.ndarray:
        """RGB (0–255) → Y, Cb, Cr as a 3 × 4 matrix for cv2.transform (offsets in the last column)."""
        offset = [[0.0 if self.full_range else 16.0], [128.0], [128.0]]
        return np.hstack([self._rows(), offset]).astype(np.float32)

    def backward(self) -> np.ndarray:
        """Y, Cb, Cr → RGB as a 3 × 4 matrix for cv2.transform."""
        inverse = np.linalg.inv(self._rows())
        offset = -inverse @ np.array([0.0 if self.full_range else 16.0, 128.0, 128.0])
        return np.hstack([inverse, offset[:, None]]).astype(np.float32)

    def colour(self, rgb: tuple[int, int, int]) -> tuple[float, float, float]:
        """One RGB colour's Y, Cb, Cr."""
        y, cb, cr = self.forward() @ np.array([*rgb, 1.0], dtype=np.float32)
        return float(y), float(cb), float(cr)

    def planes(self, rgb: np.ndarray) -> Planes:
        """An RGB picture (even width and height) as planes."""
        ycc = cv2.transform(np.ascontiguousarray(rgb), self.forward())  # uint8 in and out, saturated
        chroma = cv2.resize(ycc[..., 1:], (rgb.shape[1] // 2, rgb.shape[0] // 2), interpolation=cv2.INTER_AREA)
        return (
            np.ascontiguousarray(ycc[..., 0]),
            np.ascontiguousarray(chroma[..., 0]),
            np.ascontiguousarray(chroma[..., 1]),
        )

    def rgb(self, planes: Planes) -> np.ndarray:
        """Planes as an RGB picture."""
        luma = planes[0]
        size = (luma.shape[1], luma.shape[0])
        chroma = [cv2.resize(plane, size, interpolation=cv2.INTER_LINEAR) for plane in planes[1:]]
        return cv2.transform(np.dstack([luma, *chroma]), self.backward())


def plane_views(frame: av.VideoFrame) -> Planes:
    """The Y, Cb and Cr planes of a yuv420p frame as writable arrays over the frame's own memory (rows padded to
    the codec's alignment are left out of view)."""
    views = []
    for plane in frame.planes:
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        views.append(rows[:, : plane.width])
    return views[0], views[1], views[2]


def planes_of(frame: av.VideoFrame) -> Planes:
    """A decoded frame's planes (an 8-bit 4:2:0 frame's own; any other format converted to it first, keeping its
    matrix and range)."""
    if frame.format.name not in ("yuv420p", "yuvj420p"):
        frame = frame.reformat(format="yuvj420p" if frame.color_range == 2 else "yuv420p")
    return plane_views(frame)


def frame_of(planes: Planes) -> av.VideoFrame:
    """A new yuv420p frame holding `planes`."""
    height, width = planes[0].shape
    frame = av.VideoFrame(width, height, "yuv420p")
    for target, source in zip(plane_views(frame), planes, strict=True):
        target[:] = source
    return frame


def even(value: float) -> int:
    """A size for a 4:2:0 picture: the nearest even number, at least 2."""
    return max(2, int(round(value / 2)) * 2)


def chroma_view(matrix: np.ndarray) -> np.ndarray:
    """The same affine view (source → target pixels) on the half-size chroma planes."""
    half = np.array(matrix, dtype=np.float64)
    half[:, 2] /= 2
    return half


def warp_into(planes: Planes, matrix: np.ndarray, targets: Sequence[np.ndarray]) -> None:
    """Draw `planes` seen through the affine `matrix` into the three planes `targets`: one sub-pixel warp each."""
    half = chroma_view(matrix)
    for index, (plane, target) in enumerate(zip(planes, targets, strict=True)):
        # Replicating the outermost pixels avoids a dark fringe where a view touches the picture's edge, and skips
        # the per-pixel bounds test.
        cv2.warpAffine(
            plane,
            matrix if index == 0 else half,
            (target.shape[1], target.shape[0]),
            dst=target,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
