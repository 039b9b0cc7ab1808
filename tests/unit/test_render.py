"""The local renderer, judged by decoding what it wrote: size, rate, length, motion, likeness, framing."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from veo31.errors import InvalidMediaError
from veo31.media.motion import MAX_ZOOM, preset
from veo31.media.probe import probe_video
from veo31.media.render import RenderSpec, render_video

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WHITE = (FIXTURES / "product-on-white.jpg").read_bytes()
SCENE = (FIXTURES / "product-in-scene.jpg").read_bytes()
TALL = (FIXTURES / "tall-photo.jpg").read_bytes()


def decoded(path: Path, gray: bool = True) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [
            frame.to_ndarray(format="gray" if gray else "rgb24")
            for frame in container.decode(container.streams.video[0])
        ]


def corner_speeds(spec: RenderSpec) -> list[float]:
    """How far (output px) the fastest of the frame's corners moves between frames, from the preset's own
    definition: the fastest any point of the picture may move (one photo)."""
    move, count = preset(spec.use_case), spec.frame_count
    canvas_w, canvas_h = spec.width * MAX_ZOOM, spec.height * MAX_ZOOM

    def to_output(t: float, point: tuple[float, float]) -> np.ndarray:
        zoom, cx, cy = move.at(t)
        scale = zoom * spec.width / canvas_w
        return np.array([scale * (point[0] - cx * canvas_w) + spec.width / 2, scale * (point[1] - cy * canvas_h)])

    speeds = []
    for index in range(count - 1):
        t0, t1 = index / (count - 1), (index + 1) / (count - 1)
        zoom, cx, cy = move.at(t0)
        scale = zoom * spec.width / canvas_w
        corners = [
            (cx * canvas_w + sx * spec.width / 2 / scale, cy * canvas_h + sy * spec.height / 2 / scale)
            for sx in (-1, 1)
            for sy in (-1, 1)
        ]
        speeds.append(max(float(np.linalg.norm(to_output(t1, c) - to_output(t0, c))) for c in corners))
    return speeds


def measured_motion(frames: list[np.ndarray]) -> list[float]:
    """The median movement (px) of tracked corners between consecutive frames."""
    motion = []
    for before, after in zip(frames, frames[1:], strict=False):
        points = cv2.goodFeaturesToTrack(before, maxCorners=300, qualityLevel=0.01, minDistance=8)
        assert points is not None and len(points) > 20, "the picture should have texture to track"
        moved, found, _ = cv2.calcOpticalFlowPyrLK(before, after, points, None)
        steps = np.linalg.norm((moved - points).reshape(-1, 2)[found.ravel() == 1], axis=1)
        motion.append(float(np.median(steps)))
    return motion


@pytest.mark.parametrize(
    "spec,photos",
    [
        (RenderSpec(1280, 720, fps=30, duration=3), [SCENE]),
        (RenderSpec(720, 1280, fps=24, duration=2, use_case="social_vertical"), [WHITE, SCENE]),
        (
            RenderSpec(1920, 1080, fps=24, duration=2, use_case="turntable_360", title="Red Bottle"),
            [WHITE, SCENE, TALL],
        ),
    ],
    ids=["720p-30fps-1-photo", "vertical-24fps-2-photos", "1080p-3-photos-title"],
)
def test_the_file_is_what_was_asked(tmp_path: Path, spec: RenderSpec, photos: list[bytes]) -> None:
    target = render_video(photos, spec, tmp_path / "clip.mp4")
    info = probe_video(target)  # decodes every frame
    assert (info.width, info.height, info.codec, info.fps) == (spec.width, spec.height, "h264", spec.fps)
    assert abs(info.duration - spec.duration) <= 1 / spec.fps
    assert info.frames == spec.frame_count and info.has_audio
    data = target.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "fast start: the index comes before the media"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"], "no scratch file left behind"


@pytest.mark.parametrize("use_case", ["product_video", "lifestyle", "turntable_360", "unboxing", "gemstone_closeup"])
def test_frames_move_smoothly_within_the_presets_speed(tmp_path: Path, use_case: str) -> None:
    spec = RenderSpec(1280, 720, fps=30, duration=3, use_case=use_case)
    frames = decoded(render_video([SCENE], spec, tmp_path / "clip.mp4"))
    differences = [float(np.mean(cv2.absdiff(a, b))) for a, b in zip(frames, frames[1:], strict=False)]
    assert min(differences) > 0, "no two consecutive frames are the same picture"
    allowed = corner_speeds(spec)
    motion = measured_motion(frames)
    assert max(motion) <= max(allowed) + 0.5, (
        f"moved {max(motion):.2f} px in a frame; the preset allows {max(allowed):.2f}"
    )
    jumps = [abs(b - a) for a, b in zip(motion, motion[1:], strict=False)]
    assert max(jumps) <= 0.35 + 0.2 * max(allowed), f"a jump in speed of {max(jumps):.2f} px/frame"
    assert sum(motion) > 5, "the camera really moves"


def test_the_first_frame_looks_like_the_photo(tmp_path: Path) -> None:
    spec = RenderSpec(1280, 720, fps=30, duration=2, use_case="hero_image")  # starts with the whole photo in view
    first = decoded(render_video([SCENE], spec, tmp_path / "clip.mp4"), gray=False)[0].astype(np.float32)
    photo = cv2.imdecode(np.frombuffer(SCENE, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    inner = cv2.resize(photo, (1080, 720), interpolation=cv2.INTER_AREA).astype(np.float32)  # 3:2 fitted to 720 high
    shown = first[:, 100:1180]
    assert float(np.mean(np.abs(shown - inner))) < 10, "colours and layout match the photo"
    assert float(np.corrcoef(shown.ravel(), inner.ravel())[0, 1]) > 0.97


def test_vertical_framing_of_a_landscape_photo_keeps_the_product_in_view(tmp_path: Path) -> None:
    spec = RenderSpec(720, 1280, fps=30, duration=3, use_case="social_vertical")
    frames = decoded(render_video([WHITE], spec, tmp_path / "clip.mp4"), gray=False)
    for frame in frames[::10]:
        red = (frame[..., 0] > 140) & (frame[..., 1] < 90) & (frame[..., 2] < 90)
        rows, columns = np.nonzero(red)
        assert red.sum() > 2000, "the red product is in the picture"
        assert rows.min() > 0 and rows.max() < spec.height - 1 and columns.min() > 0 and columns.max() < spec.width - 1


def test_the_title_card_shows_the_product_name_at_the_end(tmp_path: Path) -> None:
    plain = decoded(render_video([WHITE], RenderSpec(1280, 720, duration=3), tmp_path / "plain.mp4"))
    titled = decoded(render_video([WHITE], RenderSpec(1280, 720, duration=3, title="Red Bottle"), tmp_path / "t.mp4"))
    band = slice(round(720 * 0.78), round(720 * 0.94))
    assert np.array_equal(plain[0][band], titled[0][band]), "no title at the start"
    assert float(np.mean(cv2.absdiff(plain[-10][band], titled[-10][band]))) > 20, "the title band near the end"


@pytest.mark.parametrize(
    "photos,words", [([], "1–3 photos"), ([WHITE] * 4, "1–3 photos"), ([b"not an image"], "could not be read")]
)
def test_bad_photos_are_refused_and_leave_nothing(tmp_path: Path, photos: list[bytes], words: str) -> None:
    with pytest.raises(InvalidMediaError, match=words):
        render_video(photos, RenderSpec(1280, 720, duration=2), tmp_path / "clip.mp4")
    assert list(tmp_path.iterdir()) == []
