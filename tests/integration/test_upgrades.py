"""1080p and 4K renditions of finished Kie generations: child generations tracked, stored and verified like any."""

from __future__ import annotations

import httpx

from tests.conftest import KieEmulatorHandle, png_bytes
from tests.integration.conftest import Api
from veo31.media.probe import probe_video


def finished(api: Api, **fields: object) -> dict:
    done = api.wait(api.create(files=[png_bytes()], product_name="Red Cube", **fields)["id"])
    assert done["status"] == "completed", done["error"]
    return done


def upgrade(api: Api, generation_id: str, resolution: str, expect: int = 201) -> dict:
    response = api.http.post(f"/v1/generations/{generation_id}/upgrade", json={"resolution": resolution})
    assert response.status_code == expect, response.text
    return response.json()


def stored_size(api: Api, generation: dict, tmp_path, name: str) -> tuple[int, int]:
    target = tmp_path / name
    target.write_bytes(httpx.get(generation["video_url"]).content)
    info = probe_video(target)  # decodes every frame
    return info.width, info.height


def test_1080p_upgrade_is_a_second_stored_video(api: Api, kie: KieEmulatorHandle, tmp_path) -> None:
    source = finished(api)
    assert [option["resolution"] for option in source["upgrade_options"]] == ["1080p", "4k"]
    assert "credits" in source["upgrade_options"][0]["cost"]
    child = upgrade(api, source["id"], "1080p")
    assert child["upgrade_of"] == source["id"] and child["spec"]["resolution"] == "1080p"
    done = api.wait(child["id"])
    assert done["status"] == "completed", done["error"]
    assert api.statuses(done) == ["queued", "submitted", "generating", "retrieving", "checking", "completed"]
    resolution = next(check for check in done["quality"]["checks"] if check["kind"] == "resolution")
    assert resolution["passed"] and "1920×1080" in resolution["message"], "the rendition is checked at its own size"
    assert stored_size(api, done, tmp_path, "hd.mp4") == (1920, 1080)
    assert stored_size(api, source, tmp_path, "sd.mp4") == (1280, 720), "the original is kept beside it"
    assert kie.calls("generate") == 1, "an upgrade never generates again"
    parent = api.get(source["id"])
    assert [(r["id"], r["resolution"], r["status"]) for r in parent["renditions"]] == [
        (child["id"], "1080p", "completed")
    ]
    assert parent["renditions"][0]["video_url"] == done["video_url"]
    assert parent["upgrade_options"][0]["resolution"] == "1080p", "4K is still on offer"
    disposition = httpx.get(done["download_url"]).headers["content-disposition"]
    assert f"red-cube-{done['created_at'][:10]}-1080p.mp4" in disposition


def test_asking_twice_returns_the_same_rendition(api: Api, kie: KieEmulatorHandle) -> None:
    source = finished(api, aspect_ratio="9:16")
    credits = kie.state()["credits"]
    first = upgrade(api, source["id"], "1080p")
    again = upgrade(api, source["id"], "1080p", expect=200)
    assert again["id"] == first["id"]
    done = api.wait(first["id"])
    assert done["video"]["width"] == 1080 and done["video"]["height"] == 1920
    assert upgrade(api, first["id"], "1080p", expect=200)["id"] == first["id"], "a rendition upgrades its source"
    assert kie.state()["credits"] == credits - 5, "the 1080p version was paid for once"


def test_4k_upgrade_follows_its_own_task(api: Api, kie: KieEmulatorHandle) -> None:
    source = finished(api)
    child = upgrade(api, source["id"], "4k")
    done = api.wait(child["id"])
    assert done["status"] == "completed", done["error"]
    assert (done["video"]["width"], done["video"]["height"]) == (3840, 2160)
    assert done["provider_task_id"] != source["provider_task_id"], "the 4K task is followed by its own id"
    assert kie.calls("get-4k-video") == 1, "the paid 4K request is sent once"


def test_refusals_are_clear_and_cost_nothing(api: Api, kie: KieEmulatorHandle) -> None:
    source = finished(api, resolution="1080p")
    response = api.http.post(f"/v1/generations/{source['id']}/upgrade", json={"resolution": "1080p"})
    assert response.status_code == 409 and "already 1080p" in response.json()["detail"]
    assert [option["resolution"] for option in source["upgrade_options"]] == ["4k"]
    response = api.http.post(f"/v1/generations/{source['id']}/upgrade", json={"resolution": "8k"})
    assert response.status_code == 422 and "resolution" in response.json()["detail"]
    kie.configure(generation_seconds=30)
    running = api.create(files=[png_bytes()])
    response = api.http.post(f"/v1/generations/{running['id']}/upgrade", json={"resolution": "4k"})
    assert response.status_code == 409 and "only a finished video" in response.json()["detail"]
    assert api.get(running["id"])["upgrade_options"] == []
    api.http.post(f"/v1/generations/{running['id']}/cancel")
    assert api.http.post("/v1/generations/nope/upgrade", json={"resolution": "4k"}).status_code == 404
    assert kie.calls("get-1080p-video") == 0 and kie.calls("get-4k-video") == 0


def test_a_refused_upgrade_fails_with_kies_reason_and_can_be_retried(api: Api, kie: KieEmulatorHandle) -> None:
    source = finished(api)
    kie.fault(
        "error", endpoint="get-1080p-video", code=422, msg="This is a fallback video; it cannot be upgraded", count=1
    )
    child = upgrade(api, source["id"], "1080p")
    failed = api.wait(child["id"])
    assert failed["status"] == "failed" and "1080p upgrade" in failed["history"][-1]["detail"]
    assert "fallback video" in failed["error"]["message"]
    retried = api.http.post(f"/v1/generations/{child['id']}/retry")
    assert retried.status_code == 201, retried.text
    assert retried.json()["upgrade_of"] == source["id"] and retried.json()["id"] != child["id"]
    assert api.wait(retried.json()["id"])["status"] == "completed"


def test_providers_list_what_each_can_make(api: Api) -> None:
    listing = api.http.get("/v1/providers").json()
    assert listing["auto"] == "kie"
    by_name = {provider["name"]: provider for provider in listing["providers"]}
    assert set(by_name) == {"kie", "gemini", "local"}
    kie_caps = by_name["kie"]["capabilities"]
    assert by_name["kie"]["available"] and kie_caps["aspect_ratios"] == ["16:9", "9:16"]
    assert kie_caps["durations"] == [8] and [u["resolution"] for u in kie_caps["upgrades"]] == ["1080p", "4k"]
    assert not by_name["gemini"]["available"] and by_name["gemini"]["reason"]


def test_the_emulator_renders_its_results_from_the_reference_photos(api: Api, tmp_path) -> None:
    import av
    import numpy as np

    done = finished(api)  # a red square photo (png_bytes)
    target = tmp_path / "v.mp4"
    target.write_bytes(httpx.get(done["video_url"]).content)
    with av.open(str(target)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    red = (first[..., 0] > 150) & (first[..., 1] < 90) & (first[..., 2] < 90)
    rows, columns = np.nonzero(red)
    assert red[360, 640], "the red square is in the middle"
    assert rows.min() > 100 and rows.max() < 620, "it is a square, not a full-height test-pattern bar"
    assert 400 < columns.min() and columns.max() < 880


def test_ten_upgrade_clicks_at_once_make_one_rendition(api: Api, kie: KieEmulatorHandle) -> None:
    from concurrent.futures import ThreadPoolExecutor

    source = finished(api)
    key = {"Idempotency-Key": f"upgrade-{source['id']}"}

    def click(_: int) -> httpx.Response:
        return api.http.post(f"/v1/generations/{source['id']}/upgrade", json={"resolution": "1080p"}, headers=key)

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(click, range(10)))
    assert sorted(answer.status_code for answer in answers) == [200] * 9 + [201]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert api.wait(answers[0].json()["id"])["status"] == "completed"
    assert len(api.get(source["id"])["renditions"]) == 1
    other = api.http.post(f"/v1/generations/{source['id']}/upgrade", json={"resolution": "4k"}, headers=key)
    assert other.status_code == 409, "the key belongs to the 1080p request"
