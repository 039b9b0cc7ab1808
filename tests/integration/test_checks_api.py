"""POST /v1/checks through the session's server: the report on a good and a bad clip, junk refused with a typed 4xx
and a message, a foreign page refused before any work, and nothing stored either way."""

from __future__ import annotations

import pytest

from tests.clips import PHOTO, WHITE, long_clip, rendered
from tests.integration.conftest import Api


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("checks")
    return {
        "good": rendered(folder).read_bytes(),
        "silent": rendered(folder, audio="silence").read_bytes(),
        "long": long_clip(folder / "long.mp4", 7200).read_bytes(),
    }


def post(api: Api, video: bytes | None, photos: list[bytes], **fields: str) -> tuple[int, dict]:
    files = [("images", (f"p{index}.jpg", photo, "image/jpeg")) for index, photo in enumerate(photos)]
    if video is not None:
        files.append(("video", ("clip.mp4", video, "video/mp4")))
    response = api.http.post("/v1/checks", files=files, data=fields)
    return response.status_code, response.json()


def stored(api: Api) -> list[str]:
    return sorted(str(path.relative_to(api.data_dir)) for path in api.data_dir.rglob("check-*"))


def test_a_good_clip_passes(api: Api, clips: dict[str, bytes]) -> None:
    before = api.http.get("/v1/generations").json()["items"]
    status, report = post(api, clips["good"], [PHOTO.read_bytes()], duration="4", resolution="640x360", audio="true")
    assert status == 200, report
    assert report["passed"] is True and report["score"] > 0.5
    assert report["frame"].startswith("data:image/jpeg;base64,"), "the photo beside a frame, inline: nothing stored"
    assert {check["kind"] for check in report["checks"]} >= {"duration", "resolution", "audio", "black", "letterbox"}
    assert api.http.get("/v1/generations").json()["items"] == before, "a check creates no generation"
    assert stored(api) == [], "and leaves no file behind"


def test_a_bad_clip_fails_with_what_to_act_on(api: Api, clips: dict[str, bytes]) -> None:
    status, report = post(api, clips["silent"], [PHOTO.read_bytes(), WHITE.read_bytes()], resolution="1080p")
    assert status == 200 and report["passed"] is False
    failed = {check["kind"]: check["message"] for check in report["checks"] if not check["passed"]}
    assert set(failed) == {"audio", "resolution"}
    assert "silent" in failed["audio"] and "where 1920×1080 (1080p) was asked" in failed["resolution"]


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("no-video", "send the clip to check as 'video'"),
        ("empty-video", "the video is empty"),
        ("no-photo", "send 1–3 reference photos"),
        ("four-photos", "at most 3 reference photos"),
        ("not-a-video", "is not a playable video"),
        ("a-photo-as-video", "is a picture, not a video"),
        ("not-a-photo", "photo 1 is not a readable"),
        ("two-hours", "runs longer than 300 s"),
        ("bad-resolution", "is no resolution"),
        ("unknown-field", "unknown field 'colour'"),
    ],
)
def test_junk_is_refused_and_nothing_is_stored(api: Api, clips: dict[str, bytes], case: str, said: str) -> None:
    photo, good = PHOTO.read_bytes(), clips["good"]
    video, photos, fields = {
        "no-video": (None, [photo], {}),
        "empty-video": (b"", [photo], {}),
        "no-photo": (good, [], {}),
        "four-photos": (good, [photo] * 4, {}),
        "not-a-video": (b"plain text" * 50, [photo], {}),
        "a-photo-as-video": (photo, [photo], {}),
        "not-a-photo": (good, [b"GIF89a not really"], {}),
        "two-hours": (clips["long"], [photo], {}),
        "bad-resolution": (good, [photo], {"resolution": "huge"}),
        "unknown-field": (good, [photo], {"colour": "red"}),
    }[case]
    status, body = post(api, video, photos, **fields)
    assert status == 422, body
    assert said in str(body), body
    assert stored(api) == []


def test_a_foreign_page_cannot_use_it(api: Api, clips: dict[str, bytes]) -> None:
    response = api.http.post(
        "/v1/checks",
        files=[
            ("video", ("c.mp4", clips["good"], "video/mp4")),
            ("images", ("p.jpg", PHOTO.read_bytes(), "image/jpeg")),
        ],
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
