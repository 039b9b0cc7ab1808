"""Deliverables decoded: a synthetic product clip (a red product whose box is known, on a warm studio backdrop)
reframed for each kind of preset — size, codec, profile, length, sound at the preset's loudness (±1 LU, true peak
under the ceiling) or none, the file under the preset's cap, the
product inside the crop and the preset's safe zone in every frame, no shake on a still product, and a frame extended
from the picture's own colours when the product is wider than the target allows."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from veo31.finishing.deliver import deliver
from veo31.finishing.finder import Appearance, find_product
from veo31.finishing.presets import PRESETS, Container
from veo31.media.loudness import SILENCE_LUFS, measure

FPS = 24
SECONDS = 2
WIDTH, HEIGHT = 640, 360
BACKDROP = (236, 222, 200)  # a warm paper backdrop, lit from the left


def scene(product: tuple[int, int, int, int]) -> np.ndarray:
    """The backdrop with its light falloff, and the red product at (left, top, width, height)."""
    ramp = np.linspace(1.0, 0.86, WIDTH)[None, :, None]
    picture = (np.asarray(BACKDROP, np.float32)[None, None, :] * ramp).repeat(HEIGHT, 0).astype(np.uint8)
    left, top, width, height = product
    picture[top : top + height, left : left + width] = (200, 30, 40)
    picture[top + height // 3 : top + height // 2, left + 4 : left + width - 4] = (245, 245, 240)  # its label
    return picture


def clip(
    folder: Path,
    name: str,
    product_at: Callable[[float], tuple[int, int, int, int]],
    audio: bool = True,
    seconds: int = SECONDS,
) -> Path:
    path = folder / f"{name}.mp4"
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "18", "preset": "ultrafast"}
        sound = container.add_stream("aac", rate=48_000, layout="stereo") if audio else None
        for index in range(FPS * seconds):
            frame = av.VideoFrame.from_ndarray(scene(product_at(index / FPS)), format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            t = np.arange(48_000 * seconds) / 48_000
            tone = (0.02 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # quiet: about −34 LUFS
            samples = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
            samples.sample_rate, samples.pts = 48_000, 0
            container.mux(sound.encode(samples))
            container.mux(sound.encode(None))
    return path


def red_box(picture: np.ndarray) -> tuple[int, int, int, int] | None:
    red = (picture[..., 0] > 150) & (picture[..., 1] < 90) & (picture[..., 2] < 100)
    ys, xs = np.nonzero(red)
    if len(xs) < 20:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def decoded(path: Path) -> tuple[list[np.ndarray], av.container.InputContainer]:
    container = av.open(str(path))
    return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)], container


def assert_product_inside_safe_zone(frames: list[np.ndarray], preset_name: str) -> None:
    preset = PRESETS[preset_name]
    left, top, right, bottom = preset.safe.box(preset.width, preset.height)
    for index, picture in enumerate(frames):
        box = red_box(picture)
        assert box is not None, f"frame {index}: the product left the crop"
        assert left <= box[0] and top <= box[1] and box[2] <= right and box[3] <= bottom, (index, box)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("finishing")
    return {
        "still": clip(folder, "still", lambda t: (250, 120, 90, 150)),
        "moving": clip(folder, "moving", lambda t: (round(120 + 160 * t), 110, 90, 150), audio=False),
        "wide": clip(folder, "wide", lambda t: (60, 130, 520, 110)),
    }


@pytest.mark.parametrize("name", ["tiktok", "instagram_feed", "square"])
def test_a_still_product_is_framed_in_the_safe_zone_without_shake(
    clips: dict[str, Path], tmp_path: Path, name: str
) -> None:
    preset = PRESETS[name]
    target = tmp_path / f"{name}.mp4"
    made = deliver(clips["still"], preset, target)
    assert made.jitter_px <= 0.05, "a still product gives a still crop"
    frames, container = decoded(target)
    with container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", preset.width, preset.height)
        assert len(frames) == FPS * SECONDS and container.streams.audio, "every frame, and its sound"
    assert target.stat().st_size <= preset.max_bytes
    assert_product_inside_safe_zone(frames, name)
    level = measure(target)
    assert abs(level.integrated - preset.loudness_lufs) <= 1.0, f"mixed to {preset.loudness_lufs} LUFS: {level}"
    assert level.true_peak is not None and level.true_peak <= preset.true_peak_db, level


def test_a_moving_product_is_followed(clips: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "reel.mp4"
    deliver(clips["moving"], PRESETS["instagram_reel"], target)
    frames, container = decoded(target)
    container.close()
    assert_product_inside_safe_zone(frames, "instagram_reel")
    assert measure(target).integrated == SILENCE_LUFS, "a clip without sound gets honest silence, not a hum"
    centres = [((box[0] + box[2]) / 2) for box in map(red_box, frames) if box]
    assert max(centres) - min(centres) < 0.25 * PRESETS["instagram_reel"].width, "the crop moves with the product"


def test_a_product_wider_than_the_target_is_kept_whole_on_a_backdrop_extended_from_the_picture(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "shorts.mp4"
    deliver(clips["wide"], PRESETS["youtube_shorts"], target)
    frames, container = decoded(target)
    container.close()
    assert_product_inside_safe_zone(frames, "youtube_shorts")
    band = frames[len(frames) // 2][:120].reshape(-1, 3).astype(np.float32)  # above the source's picture
    mean = band.mean(axis=0)
    assert np.abs(mean - np.asarray(BACKDROP) * 0.93).max() < 25, f"the backdrop's colours, not grey or black: {mean}"
    assert band.std(axis=0).max() > 1.0, "the picture's own light, not one flat fill"


def test_landscape_and_product_page_keep_to_their_codecs_and_caps(clips: dict[str, Path], tmp_path: Path) -> None:
    for name, sound in (("landscape", True), ("product_page", False)):
        preset = PRESETS[name]
        target = tmp_path / f"{name}.mp4"
        deliver(clips["still"], preset, target)
        with av.open(str(target)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.profile == "Main", "Amazon and old phones ask for H.264 Main"
            assert (stream.width, stream.height) == (preset.width, preset.height)
            assert bool(container.streams.audio) is sound
            if preset.fps:
                assert stream.average_rate == Fraction(preset.fps)
        assert target.stat().st_size <= preset.max_bytes


def test_the_preview_is_a_small_silent_looping_webp(clips: dict[str, Path], tmp_path: Path) -> None:
    preset = PRESETS["preview"]
    assert preset.container is Container.WEBP
    target = tmp_path / "preview.webp"
    made = deliver(clips["moving"], preset, target)
    with Image.open(target) as image:
        assert image.format == "WEBP" and image.is_animated and image.size == (480, 480)
        assert image.n_frames == made.frames == SECONDS * preset.fps
        assert image.info.get("loop") == 0, "it loops forever"
    assert target.stat().st_size <= preset.max_bytes


def steep_scene(left: int) -> np.ndarray:
    """A backdrop lit hard from one side (250 → 70), with grain — where nothing stands out cleanly from it but the
    product's colour."""
    rng = np.random.default_rng(left)
    ramp = np.linspace(250, 70, WIDTH)[None, :, None] * np.asarray([1.0, 0.93, 0.82])[None, None, :]
    picture = ramp.repeat(HEIGHT, 0) + rng.normal(0, 6, (HEIGHT, WIDTH, 3))
    picture[110:260, left : left + 90] = (200, 30, 40)
    picture[160:185, left + 4 : left + 86] = (245, 245, 240)
    return np.clip(picture, 0, 255).astype(np.uint8)


def test_a_product_on_a_hard_lit_backdrop_is_found_by_its_reference_photo(tmp_path: Path) -> None:
    photo = np.full((600, 600, 3), 242, np.uint8)  # the studio photo: the product on white
    photo[150:450, 240:360] = (200, 30, 40)
    photo[250:300, 248:352] = (245, 245, 240)
    appearance = Appearance.of(photo)
    assert appearance is not None
    plain = find_product(steep_scene(420))
    assert plain is None or abs(plain[0] - 420 / WIDTH) > 0.1, "what stands out here is the light, not the product"
    found = find_product(steep_scene(420), appearance)
    assert found is not None and abs(found[0] - 420 / WIDTH) < 0.02 and abs(found[2] - 90 / WIDTH) < 0.03, found

    path = tmp_path / "hard-light.mp4"
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "18", "preset": "ultrafast"}
        for index in range(FPS * SECONDS):
            frame = av.VideoFrame.from_ndarray(steep_scene(round(80 + 220 * index / (FPS * SECONDS))), format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
    target = tmp_path / "reel.mp4"
    deliver(path, PRESETS["instagram_reel"], target, appearance)
    frames, container = decoded(target)
    container.close()
    assert_product_inside_safe_zone(frames, "instagram_reel")


def test_a_photo_whose_product_is_the_backdrops_colour_gives_no_appearance() -> None:
    photo = np.full((400, 400, 3), 240, np.uint8)
    photo[100:300, 150:250] = (225, 225, 225)  # a white bottle on white: its colours say nothing
    assert Appearance.of(photo) is None


def test_bars_only_when_asked(clips: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "shorts-bars.mp4"
    deliver(clips["wide"], PRESETS["youtube_shorts"], target, letterbox=True)
    frames, container = decoded(target)
    container.close()
    assert_product_inside_safe_zone(frames, "youtube_shorts")
    band = frames[len(frames) // 2][:120].reshape(-1, 3)
    assert band.max() <= 24, "black bars where the picture falls short, as asked"
