"""Steps 1 and 2 through the API: analyse → edit → generate with exactly that prompt; reference videos."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import KieEmulatorHandle
from tests.integration.conftest import Api, hosted_image
from tests.videos import studio_moves, video_bytes, write_video

PHOTO = (Path(__file__).parents[1] / "fixtures" / "product-on-white.jpg").read_bytes()


def test_analyse_edit_generate_round_trip(api: Api, kie: KieEmulatorHandle) -> None:
    analysed = api.http.post(
        "/veo31/analyze-and-prompt",
        files={"reference_image1": ("a.jpg", PHOTO, "image/jpeg")},
        data={"use_case": "luxury_brand", "product_name": "Red bottle"},
    )
    assert analysed.status_code == 200, analysed.text
    body = analysed.json()
    assert body["ready_for_editing"] is True and body["prompt"] == body["step2_prompt"]
    assert body["step1_analysis"]["colours"][:2] == ["red", "white"]
    assert "Red bottle" in body["prompt"] and "elegant slow tracking shot" in body["prompt"]
    edited = body["prompt"].replace("elegant slow tracking shot", "slow crane shot rising") + " Rain on the window."
    generated = api.http.post(
        "/veo31/generate-with-prompt",
        files={"reference_image1": ("a.jpg", PHOTO, "image/jpeg")},
        data={"prompt": edited, "aspect_ratio": "9:16", "prefer_kie_api": "true"},
    ).json()
    step3 = generated["step3_video_generation"]
    assert step3["status"] == "submitted"
    assert kie.task(step3["provider_task_id"])["params"]["prompt"] == edited, "exactly the edited prompt"
    assert generated["step1_analysis"]["analyzer"] == "none" and generated["prompt_details"]["writer"] == "user"


def test_generate_with_prompt_urls(api: Api, kie: KieEmulatorHandle) -> None:
    body = api.http.post(
        "/veo31/generate-with-prompt-urls",
        data={"reference_image_urls": hosted_image(kie), "prompt": "The cube spins once."},
    ).json()
    assert kie.task(body["step3_video_generation"]["provider_task_id"])["params"]["prompt"] == "The cube spins once."
    missing = api.http.post("/veo31/generate-with-prompt-urls", data={"reference_image_urls": hosted_image(kie)})
    assert missing.status_code == 422 and "prompt is required" in missing.json()["detail"]


def test_v1_analyses_json_and_multipart_with_a_video(api: Api, kie: KieEmulatorHandle, tmp_path: Path) -> None:
    by_url = api.http.post("/v1/analyses", json={"image_urls": [hosted_image(kie, PHOTO)], "use_case": "hero_image"})
    assert by_url.status_code == 200, by_url.text
    assert by_url.json()["analysis"]["background_surfaces"] == "a plain white studio background"
    with_video = api.http.post(
        "/v1/analyses",
        files=[
            ("images", ("a.jpg", PHOTO, "image/jpeg")),
            ("video", ("ref.mp4", video_bytes(tmp_path, "pan left"), "video/mp4")),
        ],
    )
    answer = with_video.json()
    assert answer["analysis"]["video"]["camera_motion"] == "pan left"
    assert "Camera: pan left at a" in answer["prompt"] and "as in the reference video" in answer["prompt"]


STUDIO_MOVES = studio_moves()
CAMERA = {
    "static": "Camera: a still, locked-off camera, as in the reference video.",
    "unknown": "Camera: smooth slow dolly-in",  # the use case's own move: nothing was judged, nothing is claimed
}


@pytest.mark.parametrize("motion", list(STUDIO_MOVES))
def test_camera_motion_over_a_plain_studio_background(api: Api, tmp_path: Path, motion: str) -> None:
    """The commonest product shot: one product on a white sweep, the camera moving over it (or a turntable, as
    the camera sees an orbit). Each move is named by the old analyse route, and the prompt follows it."""
    video = write_video(tmp_path / "reference.mp4", STUDIO_MOVES[motion]).read_bytes()
    response = api.http.post(
        "/veo31/analyze-and-prompt",
        files={
            "reference_image1": ("a.jpg", PHOTO, "image/jpeg"),
            "video_reference": ("reference.mp4", video, "video/mp4"),
        },
        data={"use_case": "product_video"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["step1_analysis"]["video"]["camera_motion"] == motion
    expected = CAMERA.get(motion, f"Camera: {motion} at a ")
    assert expected in body["step2_prompt"], body["step2_prompt"]
    if motion == "unknown":
        assert "reference video" not in body["step2_prompt"] and "static" not in body["step2_prompt"]


def test_a_reference_video_steers_the_generation(api: Api, kie: KieEmulatorHandle, tmp_path: Path) -> None:
    response = api.http.post(
        "/veo31/generate",
        files={
            "reference_image1": ("a.jpg", PHOTO, "image/jpeg"),
            "video_reference": ("ref.mp4", video_bytes(tmp_path, "push in"), "video/mp4"),
        },
    )
    body = response.json()
    assert body["step3_video_generation"]["status"] == "submitted"
    assert body["step1_analysis"]["video"]["camera_motion"] == "push in"
    assert "Camera: push in" in kie.task(body["step3_video_generation"]["provider_task_id"])["params"]["prompt"]


def test_bad_reference_videos(api: Api, tmp_path: Path) -> None:
    text = api.http.post(
        "/v1/analyses",
        files=[("images", ("a.jpg", PHOTO, "image/jpeg")), ("video", ("ref.mp4", b"not a video at all", "video/mp4"))],
    )
    assert text.status_code == 422 and "not a playable video" in text.json()["detail"]
    whole = video_bytes(tmp_path, "pan right")
    corrupt = api.http.post(
        "/veo31/analyze-and-prompt",
        files={
            "reference_image1": ("a.jpg", PHOTO, "image/jpeg"),
            "video_reference": ("ref.mp4", whole[:700] + bytes(len(whole) - 700), "video/mp4"),
        },
    )
    assert corrupt.status_code == 422 and corrupt.json()["detail"]


def test_a_retry_keeps_the_reference_video(api: Api, kie: KieEmulatorHandle, tmp_path: Path) -> None:
    kie.fault("fail", flag=3, error_code=501, msg="Video generation failed")
    failed = api.http.post(
        "/v1/generations",
        files=[
            ("images", ("a.jpg", PHOTO, "image/jpeg")),
            ("video", ("ref.mp4", video_bytes(tmp_path, "tilt up"), "video/mp4")),
        ],
    )
    first = api.wait(failed.json()["id"])
    assert first["status"] == "failed"
    child = api.wait(api.http.post(f"/v1/generations/{first['id']}/retry").json()["id"])
    assert child["status"] == "completed" and child["analysis"]["video"]["camera_motion"] == "tilt up"
    assert "Camera: tilt up" in child["prompt"]


def test_a_bad_reference_video_leaves_nothing_behind(api: Api, tmp_path: Path) -> None:
    from tests.conftest import png_bytes

    fresh_photo = png_bytes(width=617, height=419, colour=(17, 99, 201))  # pixels no other test stores
    images = api.data_dir / "blobs" / "images"
    before = sorted(images.glob("*")) if images.exists() else []
    response = api.http.post(
        "/v1/generations",
        files=[("images", ("a.jpg", fresh_photo, "image/jpeg")), ("video", ("ref.mp4", b"not a video", "video/mp4"))],
    )
    assert response.status_code == 422 and "not a playable video" in response.json()["detail"]
    assert (sorted(images.glob("*")) if images.exists() else []) == before
