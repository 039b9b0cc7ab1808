"""How the camera moves in a reference video, from tracked features over a few frames a second.

Frames are sampled (about 6 a second, at most 150), shrunk and compared in pairs: a jump in the colour histogram
is a cut; otherwise corners are tracked between the two (see `classify`) and a similarity transform fitted to
them gives a translation (pan or tilt — the image moves opposite to the camera) and a scale (push-in or
pull-out); what it leaves unexplained is parallax (near and far parts moving at different speeds: orbit-like).
Frames with too little texture to track say "unknown", not "static". A video longer than the limit is refused by
its duration, read from the container, before any frame is decoded.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import av
import cv2
import numpy as np

from veo31.analysis.result import CameraMotion, MotionSegment, Pace, VideoNotes
from veo31.errors import InputError, InvalidMediaError
from veo31.media.poster import frame_image

MAX_VIDEO_SECONDS = 600.0
SAMPLE_FPS = 6.0
MAX_SAMPLES = 150
WIDTH = 320  # enough for a product's edges and print to give corners to track
STILL = 0.012  # frame widths (or scale) per second below which nothing moves
PARALLAX = 0.3  # unexplained spread of horizontal motion, against the fitted motion, that reads as orbit-like
MIN_POINTS = 12  # fewer tracked corners than this between two frames: the motion is not judged
CUT = 0.45  # Bhattacharyya distance between colour histograms that marks a cut


def video_duration(path: Path) -> float:
    """The duration the container declares (no decoding); InvalidMediaError if it is not a video."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidMediaError(f"{path.name} has no video stream", field="video_reference")
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
            return 0.0
    except av.FFmpegError:
        raise InvalidMediaError(f"{path.name} is not a playable video", field="video_reference") from None


def analyse_video(path: Path | str, *, max_seconds: float = MAX_VIDEO_SECONDS) -> VideoNotes:
    path = Path(path)
    duration = video_duration(path)
    if duration > max_seconds:
        raise InputError(
            f"the reference video is {duration / 60:.0f} min long; send one of at most "
            f"{max_seconds / 60:.0f} min (a few seconds of the camera move you want is enough)",
            field="video_reference",
        )
    frames, times, fps = _sample(path, max_seconds)
    if len(frames) < 2:
        raise InvalidMediaError(f"{path.name} has too few frames to show any camera motion", field="video_reference")
    labels: list[tuple[float, float, CameraMotion, float]] = []
    cuts = 0
    for (before, after), (start, end) in zip(
        zip(frames, frames[1:], strict=False), zip(times, times[1:], strict=False), strict=True
    ):
        if _is_cut(before, after):
            cuts += 1
            continue
        motion, speed = classify(before, after, max(end - start, 1e-3))
        labels.append((start, end, motion, speed))
    segments = _segments(labels)
    overall = _overall(labels)
    speeds = [speed for _, _, motion, speed in labels if motion not in ("static", "unknown")]
    pace = pace_of(overall, float(np.mean(speeds)) if speeds else 0.0)
    if overall == "unknown":
        heading = "The camera motion could not be judged (too little texture in the frames)"
    else:
        heading = "A still camera" if overall == "static" else f"Mostly {overall}, {pace} pace"
    notes = heading + f", over {duration or times[-1]:.1f} s" + (f", {cuts} cut(s)" if cuts else ", no cuts") + "."
    return VideoNotes(
        duration=round(duration or times[-1], 3),
        fps=round(fps, 3),
        frames_analysed=len(frames),
        camera_motion=overall,
        segments=segments,
        pace=pace,
        cuts=cuts,
        notes=notes,
    )


def pace_of(overall: CameraMotion, mean_speed: float) -> Pace:
    """How fast the camera moves, from its mean speed in frame widths (or scale) per second."""
    if overall == "unknown":
        return "unknown"
    if overall == "static":
        return "still"
    if mean_speed < 0.08:
        return "slow"
    return "moderate" if mean_speed < 0.25 else "fast"


def read_reference_video(path: Path | str) -> tuple[VideoNotes, list[bytes]]:
    """Everything step 1 takes from a reference video: its camera motion, and stills for a vision model."""
    return analyse_video(path), sample_stills(path)


def sample_stills(path: Path | str, count: int = 3, side: int = 768) -> list[bytes]:
    """`count` JPEG stills spread over the video (start, middle, end), for a vision model to look at."""
    notes_duration = video_duration(Path(path)) or 1.0
    wanted = [notes_duration * (index + 0.5) / count for index in range(count)]
    stills: list[bytes] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                moment = float(frame.time or 0.0)
                if wanted and moment >= wanted[0]:
                    wanted.pop(0)
                    image = frame_image(frame)
                    image.thumbnail((side, side))
                    buffer = io.BytesIO()
                    image.convert("RGB").save(buffer, format="JPEG", quality=85)
                    stills.append(buffer.getvalue())
                if not wanted:
                    break
    except av.FFmpegError:
        raise InvalidMediaError(f"{Path(path).name} is damaged partway through", field="video_reference") from None
    return stills


def _sample(path: Path, max_seconds: float) -> tuple[list[np.ndarray], list[float], float]:
    frames: list[np.ndarray] = []
    times: list[float] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 24)
            step = max(1, round(fps / SAMPLE_FPS))
            for index, frame in enumerate(container.decode(stream)):
                moment = float(frame.time) if frame.time is not None else index / fps
                if moment > max_seconds:
                    raise InputError(
                        f"the reference video runs past {max_seconds / 60:.0f} min; send a shorter one",
                        field="video_reference",
                    )
                if index % step:
                    continue
                image = frame.to_ndarray(format="rgb24")
                height = max(2, round(image.shape[0] * WIDTH / image.shape[1]))
                frames.append(cv2.resize(image, (WIDTH, height), interpolation=cv2.INTER_AREA))
                times.append(moment)
                if len(frames) >= MAX_SAMPLES:
                    break
    except av.FFmpegError:
        raise InvalidMediaError(f"{path.name} is damaged partway through", field="video_reference") from None
    return frames, times, fps


def _is_cut(before: np.ndarray, after: np.ndarray) -> bool:
    histograms = []
    for image in (before, after):
        histogram = cv2.calcHist([image], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3)
        histograms.append(cv2.normalize(histogram, histogram).flatten())
    return cv2.compareHist(histograms[0], histograms[1], cv2.HISTCMP_BHATTACHARYYA) > CUT


def classify(before: np.ndarray, after: np.ndarray, seconds: float) -> tuple[CameraMotion, float]:
    """The camera motion between two frames, and its speed in frame widths (or scale) per second.

    Judged from what has texture: corners are tracked from one frame to the next (and back, to drop points that
    do not return), and a similarity transform (shift, scale, rotation) is fitted to them. On a plain studio
    background the product's own edges and print carry the motion, where a dense field averaged over the frame
    sees a still backdrop. The part of the motion the transform cannot explain is parallax: near and far parts
    moving at different speeds, as when the camera circles the product. Too few points to judge: "unknown"."""
    gray = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in (before, after)]
    height, width = gray[0].shape
    tracked = _track(gray[0], gray[1])
    if tracked is None:
        return "unknown", 0.0
    start, end = tracked
    matrix, _ = cv2.estimateAffinePartial2D(start, end, method=cv2.RANSAC, ransacReprojThreshold=0.75)
    if matrix is None:
        return "unknown", 0.0
    centre = np.array([width / 2, height / 2, 1.0])
    shift_x, shift_y = (matrix @ centre - centre[:2]) / width / seconds
    zoom = (float(np.hypot(matrix[0, 0], matrix[1, 0])) - 1.0) / seconds  # relative growth per second
    unexplained = (end - (start @ matrix[:, :2].T + matrix[:, 2]))[:, 0]
    low, high = np.percentile(unexplained, [10, 90])
    parallax = float(high - low) / width / seconds
    translation = max(abs(shift_x), abs(shift_y))
    if max(translation, abs(zoom), parallax) < STILL:
        return "static", 0.0
    if parallax > PARALLAX * max(translation, abs(zoom)):
        return "orbit-like", max(translation, parallax)
    if abs(zoom) > translation:
        return ("push in" if zoom > 0 else "pull out"), abs(zoom)
    if abs(shift_x) >= abs(shift_y):
        return ("pan right" if shift_x < 0 else "pan left"), translation
    return ("tilt up" if shift_y > 0 else "tilt down"), translation


def _track(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Corners of `first` and where they are in `second`, kept only where tracking back returns to the start;
    None when there are too few to judge by."""
    corners = cv2.goodFeaturesToTrack(first, maxCorners=400, qualityLevel=0.01, minDistance=3, blockSize=5)
    if corners is None or len(corners) < MIN_POINTS:
        return None
    window = {"winSize": (21, 21), "maxLevel": 3}
    moved, found, _ = cv2.calcOpticalFlowPyrLK(first, second, corners, None, **window)
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(second, first, moved, None, **window)
    returned = np.linalg.norm((back - corners).reshape(-1, 2), axis=1) < 0.5
    keep = (found.ravel() == 1) & (found_back.ravel() == 1) & returned
    if keep.sum() < MIN_POINTS:
        return None
    return corners.reshape(-1, 2)[keep], moved.reshape(-1, 2)[keep]


def _segments(labels: list[tuple[float, float, CameraMotion, float]]) -> list[MotionSegment]:
    segments: list[MotionSegment] = []
    for start, end, motion, _ in labels:
        if segments and segments[-1].motion == motion and abs(segments[-1].end - start) < 1.0:
            segments[-1] = MotionSegment(start=segments[-1].start, end=round(end, 3), motion=motion)
        else:
            segments.append(MotionSegment(start=round(start, 3), end=round(end, 3), motion=motion))
    return segments


def _overall(labels: list[tuple[float, float, CameraMotion, float]]) -> CameraMotion:
    """The motion that lasts longest; frequent direction changes with no clear winner read as handheld. When most
    of the video could not be judged (too little texture), "unknown" — never a guessed "static"."""
    moving: Counter[CameraMotion] = Counter()
    unjudged = 0.0
    for start, end, motion, _ in labels:
        if motion == "unknown":
            unjudged += end - start
        elif motion != "static":
            moving[motion] += end - start
    total = sum(end - start for start, end, _, _ in labels) or 1.0
    if unjudged > 0.5 * total:
        return "unknown"
    if not moving or sum(moving.values()) < 0.3 * (total - unjudged):
        return "static"
    motion, share = moving.most_common(1)[0]
    if share < 0.45 * sum(moving.values()) and len(moving) >= 3:
        return "handheld"
    return motion
