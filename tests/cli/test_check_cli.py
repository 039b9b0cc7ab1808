"""`veo31 check` as a user runs it: a good clip passes (exit 0), a bad one fails with its reason (exit 1), and input
it cannot check is refused in one line naming the flag (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.helpers import run
from tests.clips import PHOTO, WHITE, long_clip, rendered


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("check-cli")
    return {"good": rendered(folder), "silent": rendered(folder, audio="silence")}


def test_a_good_clip_passes_and_prints_the_api_report(clips: dict[str, Path], tmp_path: Path) -> None:
    asked = ["--duration", "4", "--resolution", "640x360", "--aspect", "16:9", "--fps", "24", "--audio"]
    result = run("check", str(clips["good"]), "-r", str(PHOTO), "-r", str(WHITE), *asked, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True and set(report) == {"passed", "score", "checks", "frame"}
    assert {check["kind"] for check in report["checks"]} >= {"duration", "resolution", "audio", "black", "frozen"}
    assert all(set(check) == {"kind", "passed", "score", "message", "at_seconds"} for check in report["checks"])


def test_a_bad_clip_fails_with_its_reason(clips: dict[str, Path], tmp_path: Path) -> None:
    picture = tmp_path / "side-by-side.jpg"
    result = run(
        "check",
        str(clips["silent"]),
        "--reference",
        str(PHOTO),
        "--resolution",
        "720p",
        "--frame",
        str(picture),
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    with Image.open(picture) as image:  # the photo beside the clip's frame, side by side
        assert image.format == "JPEG" and image.width > 1.5 * image.height
    assert "FAILED" in result.stdout and "silent" in result.stdout
    assert "640×360 where 1280×720 (720p) was asked" in result.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["{photo}", "-r", "{photo}"], "VIDEO: product-in-scene.jpg is a picture, not a video"),
        (["{readme}", "-r", "{photo}"], "VIDEO: "),
        (["{good}", "-r", "{readme}"], "--reference: photo 1 is not a readable"),
        (["{good}", "-r", "{photo}", "--resolution", "huge"], "--resolution: 'huge' is no resolution"),
        (["{good}", "-r", "{photo}", "--fps", "-3"], "--fps:"),
        (["{long}", "-r", "{photo}"], "runs longer than 300 s"),
        (["{good}"], "--reference"),
    ],
    ids=["a-photo", "text", "not-a-photo", "resolution", "fps", "two-hours", "no-photo"],
)
def test_input_it_cannot_check_is_refused_naming_the_flag(
    clips: dict[str, Path], tmp_path: Path, args: list[str], said: str
) -> None:
    readme = tmp_path / "README.mp4"
    readme.write_text("words, not a video")
    names = {"photo": PHOTO, "readme": readme, "good": clips["good"], "long": long_clip(tmp_path / "l.mp4", 7200)}
    result = run("check", *[arg.format(**names) for arg in args], cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
