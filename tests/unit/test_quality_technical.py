"""The technical checks on real clips, decoded: a good product clip (the local renderer's pans and zooms over a
product photo, with sound) passes everything asked of it; each defect made into a copy of it fails its own check,
with a message that says what and where — and only that check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from tests.clips import FPS, remade, rendered
from veo31.config import load_settings
from veo31.errors import ConfigurationError, InvalidMediaError
from veo31.quality.gate import CheckRequest, check_video, limits_from
from veo31.quality.report import CheckKind, QualityReport
from veo31.quality.signals import read_clip
from veo31.quality.technical import Asked, technical_checks

ASKED = Asked(duration=4, resolution="640x360", aspect="16:9", fps=FPS, audio=True)
SHAPE_CHECKS = {CheckKind.BLACK, CheckKind.FROZEN, CheckKind.FLICKER, CheckKind.LETTERBOX}


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered(tmp_path_factory.mktemp("quality"))


@pytest.fixture(scope="module")
def frames(good: Path) -> list[np.ndarray]:
    with av.open(str(good)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def report(path: Path, asked: Asked = ASKED) -> QualityReport:
    return QualityReport.of(technical_checks(read_clip(path, max_seconds=60), asked))


def failed(result: QualityReport) -> set[CheckKind]:
    return {check.kind for check in result.failures()}


def test_a_good_clip_passes_everything_asked(good: Path) -> None:
    result = report(good)
    assert result.passed, [check.message for check in result.failures()]
    assert {check.kind for check in result.checks} == {
        CheckKind.DECODES,
        CheckKind.DURATION,
        CheckKind.RESOLUTION,
        CheckKind.ASPECT,
        CheckKind.FRAME_RATE,
        CheckKind.AUDIO,
        *SHAPE_CHECKS,
    }
    assert result.score > 0.5
    audio = next(check for check in result.checks if check.kind is CheckKind.AUDIO)
    assert "LUFS" in audio.message


def test_what_was_not_asked_is_not_judged(good: Path) -> None:
    kinds = {check.kind for check in report(good, Asked()).checks}
    assert kinds == {CheckKind.DECODES, CheckKind.AUDIO, *SHAPE_CHECKS}, "a track exists: its silence is judged"


def test_the_wrong_size_rate_length_and_aspect_are_named(good: Path) -> None:
    result = report(good, Asked(duration=8, resolution="720p", aspect="9:16", fps=30))
    assert failed(result) == {CheckKind.DURATION, CheckKind.RESOLUTION, CheckKind.ASPECT, CheckKind.FRAME_RATE}
    messages = {check.kind: check.message for check in result.checks}
    assert messages[CheckKind.RESOLUTION] == "640×360 where 720×1280 (720p) was asked"
    assert messages[CheckKind.DURATION] == "4.00 s long where 8 s was asked"
    assert messages[CheckKind.ASPECT] == "16:9 where 9:16 was asked"
    assert messages[CheckKind.FRAME_RATE] == "24 fps where 30 fps was asked"


def test_a_silent_track_fails_the_sound(tmp_path: Path) -> None:
    result = report(rendered(tmp_path, audio="silence"), Asked())
    assert failed(result) == {CheckKind.AUDIO}
    assert "silent" in result.failures()[0].message


def black_middle(index: int, frame: np.ndarray) -> np.ndarray:
    return frame * 0 if FPS <= index < 3 * FPS else frame


def frozen_middle(index: int, frame: np.ndarray, held: dict[str, np.ndarray] = {}) -> np.ndarray:  # noqa: B006
    if index == FPS:
        held["frame"] = frame
    return held["frame"] if FPS < index < 7 * FPS // 2 else frame  # 2.5 s: longer than a product shot's pause


def flickering(index: int, frame: np.ndarray) -> np.ndarray:
    if FPS <= index < 2 * FPS:
        shift = 40 if index % 2 else -40
        return np.clip(frame.astype(np.int16) + shift, 0, 255).astype(np.uint8)
    return frame


def letterboxed(index: int, frame: np.ndarray) -> np.ndarray:
    bar = frame.shape[0] // 8
    frame[:bar] = 0
    frame[-bar:] = 0
    return frame


@pytest.mark.parametrize(
    ("change", "kind", "words"),
    [
        (black_middle, CheckKind.BLACK, "black for 2.0 s (1.0–3.0 s)"),
        (frozen_middle, CheckKind.FROZEN, "the picture is frozen for"),
        (flickering, CheckKind.FLICKER, "the light flickers"),
        (letterboxed, CheckKind.LETTERBOX, "black bars nobody asked for: top 12%, bottom 12%"),
    ],
    ids=["black", "frozen", "flicker", "letterbox"],
)
def test_each_defect_fails_its_own_check(
    frames: list[np.ndarray],
    tmp_path: Path,
    change: Callable[[int, np.ndarray], np.ndarray],
    kind: CheckKind,
    words: str,
) -> None:
    result = report(remade(frames, tmp_path / f"{kind}.mp4", change), Asked(duration=4, fps=FPS))
    assert failed(result) == {kind}, [check.message for check in result.failures()]
    [check] = result.failures()
    assert words in check.message
    assert result.score < 0.5
    if check.at_seconds is not None:  # where: from the second second on, where the defect was made
        start, end = check.at_seconds
        last = 3.6 if kind is CheckKind.FROZEN else 3.1  # the frozen stretch runs to 3.5 s, the others to 2 s
        assert 0.9 <= start <= 1.4 and 1.9 <= end <= last, check.at_seconds


def test_the_good_clip_re_encoded_at_a_low_bitrate_still_passes(frames: list[np.ndarray], tmp_path: Path) -> None:
    target = remade(frames, tmp_path / "low.mp4", lambda index, frame: frame, crf=40)
    assert report(target, Asked(duration=4, fps=FPS)).passed


def test_junk_and_overlong_clips_are_refused(good: Path, tmp_path: Path) -> None:
    junk = tmp_path / "not-a-video.mp4"
    junk.write_bytes(b"this is text, not a video" * 100)
    with pytest.raises(InvalidMediaError, match="not a playable video|no video stream"):
        read_clip(junk, max_seconds=60)
    with pytest.raises(InvalidMediaError, match="runs longer than 2 s"):
        read_clip(good, max_seconds=2)


def test_thresholds_are_settings(frames: list[np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = remade(frames, tmp_path / "frozen.mp4", frozen_middle)
    monkeypatch.setenv("VEO31_QUALITY_THRESHOLDS", '{"frozen_seconds": 3}')
    patient = limits_from(load_settings().quality_thresholds)
    assert patient.technical.frozen_seconds == 3.0
    kinds = {check.kind for check in check_video(str(frozen), CheckRequest(), [], patient).failures()}
    assert CheckKind.FROZEN not in kinds, "a 2 s hold is allowed when 3 s are"
    with pytest.raises(ConfigurationError, match="VEO31_QUALITY_THRESHOLDS names frozen_secs, which is no threshold"):
        limits_from({"frozen_secs": 3})
