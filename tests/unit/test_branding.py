"""A brand kit on a deliverable, decoded: the logo in its corner inside the safe zone, the name and price appearing on
a solid panel, and an end card whose words read at 4.5:1 or better — measured from the pixels, where the kit's own
text colour would not have read (white on a light card) — and no word shown while the card fades in."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.unit.test_finishing import FPS, HEIGHT, WIDTH, clip, scene
from veo31.finishing.brand import BrandKit, contrast
from veo31.finishing.deliver import deliver
from veo31.finishing.overlay import Branding
from veo31.finishing.presets import PRESETS
from veo31.media.loudness import measure

MAGENTA = (230, 20, 200)
CARD = (245, 245, 245)
BUTTON = (255, 224, 102)


def logo_png() -> bytes:
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (260, 100), (*MAGENTA, 255)), (20, 10))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def near(picture: np.ndarray, colour: tuple[int, int, int], tolerance: float = 40) -> np.ndarray:
    return np.linalg.norm(picture.astype(np.float32) - np.asarray(colour, np.float32), axis=2) < tolerance


@pytest.fixture(scope="module")
def branded(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    folder = tmp_path_factory.mktemp("branding")
    source = clip(folder, "still-long", lambda t: (250, 120, 90, 150), seconds=4)
    kit = BrandKit(name="Mug Co", text="#ffffff", background="#f5f5f5", primary="#ffe066", cta="Shop now")
    target = folder / "square.mp4"
    deliver(source, PRESETS["square"], target, branding=Branding(kit, logo_png(), "Blue Mug", "€29"))
    with av.open(str(target)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_the_logo_sits_in_its_corner_inside_the_safe_zone(branded: list[np.ndarray]) -> None:
    preset = PRESETS["square"]
    left, top, right, bottom = preset.safe.box(preset.width, preset.height)
    for picture in branded[:40]:
        ys, xs = np.nonzero(near(picture, MAGENTA))
        assert len(xs) > 500, "the logo is there"
        assert xs.min() >= left and ys.min() >= top and xs.max() <= right and ys.max() <= bottom
        assert xs.min() > preset.width / 2 and ys.max() < preset.height / 2, "top right, as the kit says"


def test_the_name_and_price_appear_on_a_solid_panel(branded: list[np.ndarray]) -> None:
    before, after = branded[5], branded[30]
    panel = after[-200:]  # the foot of the frame, where the panel sits
    assert near(before[-200:], CARD, 12).sum() < near(panel, CARD, 12).sum() - 2000, "a panel of the kit's colour"
    ink = panel[near(panel, (0, 0, 0), 60)]
    assert len(ink) > 200, "white would not read on the light panel: the words are dark"
    assert contrast(tuple(np.median(ink, axis=0)), CARD) >= 4.5


def test_the_end_card_reads_and_shows_no_word_while_it_fades(branded: list[np.ndarray]) -> None:
    card = branded[-1]
    assert near(card, CARD, 12).mean() > 0.6, "the card is the kit's background"
    assert near(card, MAGENTA).sum() > 1000, "with the logo"
    button = near(card, BUTTON, 30)
    assert button.sum() > 2000, "and a call to action in the kit's accent"
    words = near(card, (0, 0, 0), 60)
    ink = tuple(np.median(card[words], axis=0))
    assert contrast(ink, CARD) >= 4.5 and contrast(ink, BUTTON) >= 4.5
    fading = [picture for picture in branded[-60:] if 0.05 < near(picture, CARD, 20).mean() < 0.55]
    assert fading, "the card's background fades in"
    for picture in fading:
        assert near(picture, (0, 0, 0), 60).sum() < 50, "no half-shown word during the fade"


def test_the_name_and_price_keep_clear_of_a_product_standing_at_the_foot(tmp_path: Path) -> None:
    source = clip(tmp_path, "low", lambda t: (250, 200, 90, 150), audio=False)  # standing on the frame's lower edge
    kit = BrandKit(name="Mug Co", background="#f5f5f5")
    target = tmp_path / "square.mp4"
    deliver(source, PRESETS["square"], target, branding=Branding(kit, None, "Blue Mug", "€29"))
    with av.open(str(target)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    before, after = frames[3], frames[20]
    red = near(before, (200, 30, 40), 60)
    assert red[PRESETS["square"].height // 2 :].sum() > 0.9 * red.sum(), "the product is in the lower half"
    assert near(after, (200, 30, 40), 60).sum() >= 0.97 * red.sum(), "nothing of it is hidden by the lines"
    panel = near(after, CARD, 12) & ~near(before, CARD, 12)
    ys = np.nonzero(panel)[0]
    assert len(ys) > 2000 and np.median(ys) < PRESETS["square"].height / 2, "the lines went to the top instead"


def test_a_colour_that_is_no_colour_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="write it as #RRGGBB"):
        BrandKit(name="x", primary="blue")
    with pytest.raises(ValueError):
        BrandKit(name="x", end_card_seconds=5)


def tone_file(path: Path, seconds: float, hertz: float, level: float, where: tuple[float, float] | None = None) -> Path:
    """An AAC file of a tone (only between `where`'s two times, if given)."""
    t = np.arange(int(48_000 * seconds)) / 48_000
    wave = level * np.sin(2 * np.pi * hertz * t)
    if where is not None:
        wave = wave * ((t >= where[0]) & (t < where[1]))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48_000, layout="stereo")
        samples = av.AudioFrame.from_ndarray(np.stack([wave, wave]).astype(np.float32), format="fltp", layout="stereo")
        samples.sample_rate, samples.pts = 48_000, 0
        container.mux(stream.encode(samples))
        container.mux(stream.encode(None))
    return path


def band_level(sound: np.ndarray, hertz: float, start: float, end: float) -> float:
    """The level (dB) of one frequency in a stretch of the sound."""
    piece = sound[int(start * 48_000) : int(end * 48_000)]
    spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece))))
    bins = np.fft.rfftfreq(len(piece), 1 / 48_000)
    near_bin = (bins > hertz - 20) & (bins < hertz + 20)
    return float(20 * np.log10(spectrum[near_bin].max() + 1e-9))


def test_the_kits_music_plays_under_the_clip_ducked_while_the_clip_speaks(tmp_path: Path) -> None:
    source = tmp_path / "speaks.mp4"  # a 4 s clip whose own sound (220 Hz) plays from 1.5 s to 2.5 s
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=48_000, layout="stereo")
        picture = scene((250, 120, 90, 150))
        for index in range(FPS * 4):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        t = np.arange(48_000 * 4) / 48_000
        wave = (0.2 * np.sin(2 * np.pi * 220 * t) * ((t >= 1.5) & (t < 2.5))).astype(np.float32)
        samples = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
        samples.sample_rate, samples.pts = 48_000, 0
        container.mux(sound.encode(samples))
        container.mux(sound.encode(None))
    music = tone_file(tmp_path / "music.m4a", 1.5, 660, 0.3).read_bytes()  # shorter than the clip: it loops
    kit = BrandKit(name="Mug Co", end_card_seconds=1.5)
    target = tmp_path / "tiktok.mp4"
    deliver(source, PRESETS["tiktok"], target, branding=Branding(kit, None, music=music))
    level = measure(target)
    assert abs(level.integrated - PRESETS["tiktok"].loudness_lufs) <= 1.0, level
    assert level.true_peak is not None and level.true_peak <= PRESETS["tiktok"].true_peak_db, level
    with av.open(str(target)) as container:
        mixed = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(audio=0)])
    quiet, speaking, after = (
        band_level(mixed, 660, 0.5, 1.4),
        band_level(mixed, 660, 1.8, 2.4),
        band_level(mixed, 660, 3.0, 3.4),
    )
    assert quiet - speaking >= 6, f"the music ducks under the clip's sound: {quiet:.1f} → {speaking:.1f} dB"
    assert after > speaking + 4, "and comes back after it"
    assert band_level(mixed, 220, 1.8, 2.4) > speaking + 6, "the clip's own sound stays on top"

    silent = tmp_path / "page.mp4"
    deliver(source, PRESETS["product_page"], silent, branding=Branding(kit, None, music=music))
    with av.open(str(silent)) as container:
        assert not container.streams.audio, "a silent preset stays silent, music or not"
