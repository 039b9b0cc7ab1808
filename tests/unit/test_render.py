"""The local renderer, judged by decoding what it wrote: size, rate, length, motion, likeness, framing; the studio
look's product filling the frame on its own backdrop, its end card and its music; the flat look (the emulators')."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from veo31.errors import InvalidMediaError
from veo31.media.colour import contrast
from veo31.media.loudness import SILENCE_LUFS, measure
from veo31.media.motion import MAX_ZOOM, preset
from veo31.media.probe import probe_video
from veo31.media.render import Look, RenderSpec, render_video

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


def test_the_flat_looks_first_frame_is_the_photo_whole(tmp_path: Path) -> None:
    spec = RenderSpec(1280, 720, fps=30, duration=2, use_case="hero_image", look=Look.FLAT)  # the whole photo in view
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


def test_the_studio_look_ends_on_a_card_whose_name_reads_and_never_fades(tmp_path: Path) -> None:
    frames = decoded(
        render_video([WHITE], RenderSpec(720, 1280, duration=4, title="Red Bottle"), tmp_path / "t.mp4"), False
    )
    card = frames[-1]
    backdrop = np.median(card.reshape(-1, 3), axis=0)
    ink = card[np.linalg.norm(card.astype(np.float32) - backdrop, axis=2) > 120]
    assert len(ink) > 500, "the name is on the card"
    assert contrast(tuple(np.median(ink, axis=0)), tuple(backdrop)) >= 4.5, "and reads"
    words = np.linalg.norm(card.astype(np.float32) - backdrop, axis=2) > 120
    colour = np.median(ink, axis=0)
    for picture in frames[-45:-37]:  # the card's colour coming in (0.3 s from 1.5 s before the end, at 30 fps)
        inked = np.linalg.norm(picture[words].astype(np.float32) - colour, axis=1) < 60
        assert inked.mean() < 0.05, "no word shows while the card fades in"
    assert (np.linalg.norm(frames[0].astype(np.float32) - backdrop, axis=2) > 120).sum() > 5000, "the product first"


def test_the_studio_look_fills_the_frame_with_the_product_on_its_own_backdrop(tmp_path: Path) -> None:
    spec = RenderSpec(720, 1280, fps=30, duration=3, use_case="hero_image")
    first = decoded(render_video([WHITE], spec, tmp_path / "clip.mp4"), gray=False)[0]
    red = (first[..., 0] > 140) & (first[..., 1] < 90) & (first[..., 2] < 90)
    rows, columns = np.nonzero(red)
    assert rows.max() - rows.min() > 0.5 * spec.height, "the product fills the tall frame (not 40 % of it)"
    assert rows.min() > 0 and rows.max() < spec.height - 1 and columns.min() > 0 and columns.max() < spec.width - 1
    photo = cv2.imdecode(np.frombuffer(WHITE, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    studio = np.median(photo[:20].reshape(-1, 3), axis=0)
    for corner in (first[:40, :40], first[:40, -40:], first[-40:, :40], first[-40:, -40:]):
        colour = corner.reshape(-1, 3).mean(axis=0)
        assert np.abs(colour - studio).max() < 14, f"the photo's own backdrop, not grey pillars: {colour}"


def test_the_studio_look_fills_a_tall_frame_with_a_scene_photo(tmp_path: Path) -> None:
    spec = RenderSpec(720, 1280, fps=30, duration=2, use_case="hero_image")
    first = decoded(render_video([SCENE], spec, tmp_path / "clip.mp4"), gray=False)[0].astype(np.float32)
    photo = cv2.imdecode(np.frombuffer(SCENE, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    for band in (first[:, :60], first[:, -60:], first[:80], first[-80:]):
        assert band.std(axis=(0, 1)).max() > 3, "picture to the edges: no flat pillar"
    assert np.abs(first.reshape(-1, 3).mean(axis=0) - photo.reshape(-1, 3).mean(axis=0)).max() < 25


def test_the_studio_looks_sound_is_music_at_a_social_loudness_or_silence(tmp_path: Path) -> None:
    made = render_video([WHITE], RenderSpec(640, 360, duration=4), tmp_path / "music.mp4")
    level = measure(made)
    assert abs(level.integrated - (-14.0)) <= 1.0 and level.true_peak is not None and level.true_peak <= -1.0, level
    with av.open(str(made)) as container:
        sound = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(audio=0)])
    spectrum = np.abs(np.fft.rfft(sound[48_000:96_000]))
    peaks = np.fft.rfftfreq(48_000, 1 / 48_000)[np.argsort(spectrum)[-40:]]
    assert len({round(12 * np.log2(hz / 440)) % 12 for hz in peaks if hz > 60}) >= 3, "a chord of notes, not a hum"
    quiet = render_video([WHITE], RenderSpec(640, 360, duration=2, audio="silence"), tmp_path / "quiet.mp4")
    assert measure(quiet).integrated == SILENCE_LUFS, "honest silence"


@pytest.mark.parametrize(
    "photos,words", [([], "1–3 photos"), ([WHITE] * 4, "1–3 photos"), ([b"not an image"], "could not be read")]
)
def test_bad_photos_are_refused_and_leave_nothing(tmp_path: Path, photos: list[bytes], words: str) -> None:
    with pytest.raises(InvalidMediaError, match=words):
        render_video(photos, RenderSpec(1280, 720, duration=2), tmp_path / "clip.mp4")
    assert list(tmp_path.iterdir()) == []
