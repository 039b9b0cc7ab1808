"""The local analyser on the photos the tests ship, and on short videos made here with a known camera move."""

from __future__ import annotations

import io
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageFilter

from tests.videos import MOVES, studio_moves, view, write_video
from veo31.analysis.local import analyse_image, analyse_images, colour_name
from veo31.analysis.video import analyse_video
from veo31.errors import InputError, InvalidMediaError

FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_product_on_white() -> None:
    notes = analyse_image(fixture("product-on-white.jpg"))
    assert notes.background == "plain studio" and notes.background_colour == "white"
    assert [colour.name for colour in notes.colours[:2]] == ["red", "white"]
    assert notes.subject_position == "centred" and notes.orientation == "landscape"
    x, y, w, h = notes.subject_box
    assert 0.38 < x < 0.45 and 0.12 < y < 0.2 and 0.14 < w < 0.2 and 0.62 < h < 0.74
    assert notes.focus == "sharp" and notes.lighting.startswith("bright")


def test_product_in_a_scene() -> None:
    notes = analyse_image(fixture("product-in-scene.jpg"))
    assert notes.background == "scene" and notes.background_colour is None
    assert "blue" in [colour.name for colour in notes.colours]
    assert "warm" in notes.lighting


def test_tall_photo_with_the_product_off_centre() -> None:
    notes = analyse_image(fixture("tall-photo.jpg"))
    assert notes.orientation == "portrait" and notes.background_colour == "light grey"
    assert notes.colours[0].name == "green" and notes.subject_position == "lower right of the frame"
    assert notes.subject_fill < 0.2


def test_blur_is_noticed() -> None:
    blurred = io.BytesIO()
    Image.open(io.BytesIO(fixture("product-on-white.jpg"))).filter(ImageFilter.GaussianBlur(3)).save(blurred, "JPEG")
    analysis = analyse_images([blurred.getvalue()])
    assert analysis.images[0].focus == "blurry" and analysis.notes == ["photo 1 is blurry"]


def test_merged_description() -> None:
    analysis = analyse_images([fixture("product-on-white.jpg"), fixture("tall-photo.jpg")], product_name="Red bottle")
    assert analysis.analyzer == "local" and analysis.main_objects == ["Red bottle"]
    assert analysis.materials == ["glossy, reflective surfaces"]
    assert {"red", "white", "green"} <= set(analysis.colours)
    assert analysis.background_surfaces == "a plain white studio background"
    assert "2 views" in analysis.composition and analysis.summary.startswith("Red bottle is")
    assert len(analysis.images) == 2


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((250, 250, 250), "white"),
        ((10, 10, 10), "black"),
        ((30, 60, 210), "blue"),
        ((210, 30, 30), "red"),
        ((40, 160, 70), "green"),
    ],
)
def test_colour_names(rgb: tuple[int, int, int], name: str) -> None:
    assert colour_name(rgb) == name


# -- reference videos ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("motion", MOVES)
def test_camera_moves(tmp_path: Path, motion: str) -> None:
    notes = analyse_video(write_video(tmp_path / "move.mp4", MOVES[motion]))
    assert notes.camera_motion == motion and notes.cuts == 0 and notes.pace in ("slow", "moderate", "fast")
    assert abs(notes.duration - 3.0) < 0.1


@pytest.mark.parametrize("motion", ["pan right", "pan left", "tilt up", "tilt down", "push in", "pull out"])
def test_camera_moves_over_a_plain_studio_background(tmp_path: Path, motion: str) -> None:
    """A product on a white sweep: the moving camera is seen in the product's edges, not in the blank backdrop."""
    notes = analyse_video(write_video(tmp_path / "move.mp4", studio_moves()[motion]))
    assert notes.camera_motion == motion and notes.pace != "still", notes.notes


def test_too_little_texture_is_unknown_not_static(tmp_path: Path) -> None:
    notes = analyse_video(write_video(tmp_path / "blank.mp4", studio_moves()["unknown"]))
    assert (notes.camera_motion, notes.pace) == ("unknown", "unknown")
    assert notes.camera_words() is None and "could not be judged" in notes.notes


def test_still_shot(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frames = [
        np.clip(view(400, 200).astype(int) + rng.integers(-2, 3, (180, 320, 3)), 0, 255).astype(np.uint8)
        for _ in range(48)
    ]
    notes = analyse_video(write_video(tmp_path / "still.mp4", frames))
    assert (notes.camera_motion, notes.pace) == ("static", "still")


def test_cuts_are_counted(tmp_path: Path) -> None:
    dark = np.full((180, 320, 3), 20, np.uint8)
    frames = MOVES["pan right"][:36] + [dark] * 24 + MOVES["pan left"][:36]
    notes = analyse_video(write_video(tmp_path / "cuts.mp4", frames))
    assert notes.cuts == 2 and {segment.motion for segment in notes.segments} >= {"pan right", "pan left"}


def test_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video")
    with pytest.raises(InvalidMediaError, match="not a playable video"):
        analyse_video(path)


def test_a_corrupt_video(tmp_path: Path) -> None:
    whole = write_video(tmp_path / "whole.mp4", MOVES["pan right"]).read_bytes()
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(whole[:600] + bytes(len(whole) - 600))
    with pytest.raises(InvalidMediaError):
        analyse_video(path)


def test_a_two_hour_video_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "long.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(1, 60))  # one frame a minute: 2 h in 120 frames
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(121):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")))
        container.mux(stream.encode(None))
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"1[12]\d min long; send one of at most 10 min"):
        analyse_video(path)
    assert time.perf_counter() - started < 1.0


def test_stills_for_a_vision_model(tmp_path: Path) -> None:
    from veo31.analysis.video import sample_stills

    stills = sample_stills(write_video(tmp_path / "pan.mp4", MOVES["pan right"]))
    assert len(stills) == 3 and all(still.startswith(b"\xff\xd8\xff") for still in stills)
    assert len(set(stills)) == 3, "taken from different moments"
