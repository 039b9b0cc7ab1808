"""The poster a player shows before playing: the video's first frame, as it looks, at most 1280 px wide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.videos import write_video
from veo31.media.probe import probe_video

# Pure colours survive H.264's 4:2:0 within a few levels; a channel order or conversion mistake moves them by ~200.
RED, TEAL = (220, 30, 30), (20, 160, 170)


def test_the_poster_is_the_first_frame_in_its_own_colours(tmp_path: Path) -> None:
    left_red = np.zeros((180, 320, 3), dtype=np.uint8)
    left_red[:, :160], left_red[:, 160:] = RED, TEAL
    teal = np.full((180, 320, 3), TEAL, dtype=np.uint8)
    video = write_video(tmp_path / "clip.mp4", [left_red] + [teal] * 11)
    poster = tmp_path / "clip.jpg"

    info = probe_video(video, poster=poster)

    image = np.asarray(Image.open(poster).convert("RGB")).astype(int)
    assert image.shape == (180, 320, 3) and info.frames == 12
    assert np.abs(image[90, 60] - RED).max() < 25  # the left half of the first frame, not a later one
    assert np.abs(image[90, 260] - TEAL).max() < 25
