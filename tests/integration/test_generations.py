"""Generations end to end through the HTTP API, against the Kie emulator, with callbacks (and their faults)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import sqlite3
import time

import httpx
import pytest

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, png_bytes
from tests.databases import KIND
from tests.integration.conftest import Api, hosted_image
from veo31.media.probe import probe_video

STEPS = ["queued", "preparing", "submitted", "generating", "retrieving", "checking", "completed"]


def test_upload_to_a_stored_verified_video(api: Api, kie: KieEmulatorHandle, tmp_path) -> None:
    started = api.create(
        files=[png_bytes(), png_bytes(colour=(20, 90, 200))],
        product_name="Red Cube",
        use_case="turntable_360",
        aspect_ratio="9:16",
    )
    assert started["status"] == "queued" and started["mode"] == "reference" and started["video_url"] is None
    done = api.wait(started["id"])
    assert done["status"] == "completed", done["error"]
    assert api.statuses(done) == STEPS
    times = [change["at"] for change in done["history"]]
    assert times == sorted(times)
    response = httpx.get(done["video_url"])
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    (tmp_path / "v.mp4").write_bytes(response.content)
    info = probe_video(tmp_path / "v.mp4")
    assert (info.width, info.height, info.codec) == (720, 1280, "h264")
    assert done["video"]["width"] == 720 and done["video"]["bytes"] == len(response.content)
    assert done["provider_video_url"].startswith(kie.url) and done["provider_video_url"] != done["video_url"]
    assert httpx.get(done["poster_url"]).headers["content-type"] == "image/jpeg"
    task = kie.task(done["provider_task_id"])
    assert task["params"]["generationType"] == "REFERENCE_2_VIDEO" and len(task["params"]["imageUrls"]) == 2
    assert "Red Cube" in task["params"]["prompt"] and "spins a full 360 degrees" in task["params"]["prompt"]
    assert [c.get("status") for c in task["callbacks"]] == [200], "the callback reached our API"


def test_kie_cost_is_estimated_before_and_measured_after(api: Api, kie: KieEmulatorHandle) -> None:
    started = api.create(files=[png_bytes()], model_tier="quality", mode="first_frame")
    assert started["cost"] == {
        "estimate_usd": 1.25,
        "reported_usd": None,
        "basis": "250 Kie.ai credits × $0.005",
        "earlier_attempts_usd": 0.0,
    }
    done = api.wait(started["id"])
    charged = kie.task(done["provider_task_id"])["charged"]
    assert done["cost"]["reported_usd"] == pytest.approx(charged * 0.005)
    assert done["cost"]["basis"] == f"Kie.ai balance fell by {charged:g} credits"
    before = api.http.get("/v1/generations", params={"status": "failed"}).json()["cost_total_usd"]
    kie.fault("fail", endpoint="generate")
    failed = api.wait(api.create(files=[png_bytes(colour=(1, 2, 3))], mode="first_frame")["id"])
    assert failed["status"] == "failed" and failed["cost"]["reported_usd"] == 0, "Kie does not charge a failed task"
    assert "not charged" in failed["cost"]["basis"]
    after = api.http.get("/v1/generations", params={"status": "failed"}).json()["cost_total_usd"]
    assert after == pytest.approx(before), "the failed one adds nothing to what failed generations cost"


def test_range_requests_and_downloads(api: Api) -> None:
    done = api.wait(api.create(files=[png_bytes()], product_name="Blue Mug")["id"])
    partial = httpx.get(done["video_url"], headers={"Range": "bytes=100-199"})
    assert partial.status_code == 206 and len(partial.content) == 100
    assert partial.headers["content-range"].startswith("bytes 100-199/")
    whole = httpx.get(done["video_url"]).content
    assert partial.content == whole[100:200]
    download = httpx.get(done["download_url"])
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"blue-mug-{done['created_at'][:10]}.mp4" in disposition


def test_image_urls_reach_kie_as_given(api: Api, kie: KieEmulatorHandle) -> None:
    url = hosted_image(kie)
    done = api.wait(api.create(image_urls=[url], mode="first_frame")["id"])
    assert done["status"] == "completed"
    assert kie.task(done["provider_task_id"])["params"]["imageUrls"] == [url]
    assert done["references"][0]["source_url"] == url


def test_text_only_with_own_prompt(api: Api, kie: KieEmulatorHandle) -> None:
    done = api.wait(api.create(prompt="A glass bottle on a mirror, slow orbit", negative_prompt="dust")["id"])
    assert done["status"] == "completed" and done["mode"] == "text" and done["prompt_writer"] == "user"
    sent = kie.task(done["provider_task_id"])["params"]["prompt"]
    assert sent == "A glass bottle on a mirror, slow orbit Avoid: dust."


def test_callback_wakes_the_wait_before_the_first_poll(api: Api, kie: KieEmulatorHandle) -> None:
    kie.configure(generation_seconds=0.3)
    done = api.wait(api.create()["id"])
    history = {change["status"]: change["at"] for change in done["history"]}
    from datetime import datetime

    waited = datetime.fromisoformat(history["retrieving"]) - datetime.fromisoformat(history["submitted"])
    assert waited.total_seconds() < 0.95, "a callback ended the wait before the 1 s poll"


def test_lost_callback_falls_back_to_polling(api: Api, kie: KieEmulatorHandle) -> None:
    kie.fault("callback_lost", count=None)
    done = api.wait(api.create()["id"])
    assert done["status"] == "completed"
    assert kie.task(done["provider_task_id"])["callbacks"] == [{"lost": True}]


def test_duplicate_callbacks_retrieve_once(api: Api, kie: KieEmulatorHandle) -> None:
    kie.fault("callback_duplicate")
    before = kie.calls("files")
    done = api.wait(api.create()["id"])
    time.sleep(0.5)
    assert api.statuses(api.get(done["id"])) == STEPS
    assert kie.calls("files") - before == 1, "the video was downloaded once"
    assert len([c for c in kie.task(done["provider_task_id"])["callbacks"] if c.get("status") == 200]) == 2


def test_forged_callbacks_change_nothing(api: Api, kie: KieEmulatorHandle) -> None:
    kie.configure(generation_seconds=3)
    generation = api.wait(api.create()["id"], {"generating"})
    wrong = api.http.post("/v1/callbacks/kie/not-a-real-token", json={"code": 200, "data": {"taskId": "x"}})
    assert wrong.status_code == 404
    fake = {
        "code": 200,
        "msg": "ok",
        "data": {"taskId": "someone-elses", "info": {"resultUrls": ["http://evil/x.mp4"]}},
    }
    token = _callback_token(kie, generation["provider_task_id"])
    assert api.http.post(f"/v1/callbacks/kie/{token}", json=fake).json() == {"received": True, "woke": False}
    claim = {
        "code": 200,
        "msg": "ok",
        "data": {"taskId": generation["provider_task_id"], "info": {"resultUrls": ["http://evil/x.mp4"]}},
    }
    assert api.http.post(f"/v1/callbacks/kie/{token}", json=claim).json()["woke"] is True
    time.sleep(0.5)
    assert api.get(generation["id"])["status"] == "generating", "the provider, not the callback, decides"
    done = api.wait(generation["id"])
    assert done["status"] == "completed" and "evil" not in done["provider_video_url"]
    assert api.http.post(f"/v1/callbacks/kie/{token}", content=b"not json").status_code == 422


def _callback_token(kie: KieEmulatorHandle, task_id: str) -> str:
    return kie.task(task_id)["callBackUrl"].rsplit("/", 1)[-1]


def test_expired_result_link_is_refreshed(api: Api, kie: KieEmulatorHandle) -> None:
    kie.fault("expired_link")
    done = api.wait(api.create()["id"])
    assert done["status"] == "completed"
    assert any("fresh" in (change["detail"] or "") for change in done["history"])


def test_a_result_that_is_gone_fails_with_that_reason(api: Api, kie: KieEmulatorHandle) -> None:
    kie.fault("gone")
    done = api.wait(api.create()["id"])
    assert done["status"] == "failed" and done["error"]["kind"] == "result_expired"
    assert "generate it again" in done["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "kind", "words"),
    [
        (
            {
                "kind": "fail",
                "flag": 2,
                "error_code": 400,
                "msg": "Your prompt was flagged by Website as violating content policies.",
            },
            "content_rejected",
            "flagged",
        ),
        (
            {"kind": "fail", "flag": 3, "error_code": 501, "msg": "Video generation failed"},
            "generation_failed",
            "failed",
        ),
        (
            {"kind": "error", "endpoint": "generate", "code": 451, "msg": "Failed to fetch the image"},
            "reference_image_unreachable",
            "public",
        ),
        ({"kind": "rate_limit", "endpoint": "generate", "count": None, "retry_after": 120}, "rate_limited", "429"),
        ({"kind": "server_error", "endpoint": "generate"}, "unavailable", "Internal Error"),
        ({"kind": "error", "endpoint": "generate", "code": 408, "msg": "Upstream timed out"}, "timed_out", "408"),
        (
            {"kind": "error", "endpoint": "generate", "code": 422, "msg": "prompt must be in English"},
            "invalid_request",
            "English",
        ),
        ({"kind": "maintenance", "endpoint": "generate", "count": None}, "unavailable", "maintenance"),
    ],
)
def test_provider_failures_end_in_the_right_reason(
    api: Api, kie: KieEmulatorHandle, fault: dict, kind: str, words: str
) -> None:
    kie.control.post("/_emulator/faults", json=fault).raise_for_status()
    done = api.wait(api.create(files=[png_bytes()])["id"])
    assert done["status"] == "failed", done["history"]
    assert done["error"]["kind"] == kind and words in done["error"]["message"]


def test_no_credits(api: Api, kie: KieEmulatorHandle) -> None:
    kie.set_credits(0)
    done = api.wait(api.create()["id"])
    assert done["error"]["kind"] == "insufficient_credits" and "Top up" in done["error"]["message"]
    assert kie.state()["tasks"] == []


def test_wrong_key_on_the_server(api: Api, kie: KieEmulatorHandle) -> None:
    kie.configure(api_keys=["a-different-key-entirely"])
    done = api.wait(api.create()["id"])
    assert done["error"]["kind"] == "authentication" and "KIE_API_KEY" in done["error"]["message"]
    assert KIE_TEST_KEY not in str(done)


@pytest.mark.parametrize("kind", ["malformed", "drop"])
def test_uncertain_submission_is_adopted_from_its_callback(api: Api, kie: KieEmulatorHandle, kind: str) -> None:
    kie.fault(kind, endpoint="generate")
    done = api.wait(api.create()["id"])
    assert done["status"] == "completed", done["history"]
    assert kie.calls("generate") == 1, "nothing was sent twice"
    assert any("learnt from its callback" in (change["detail"] or "") for change in done["history"])


def test_cancel(api: Api, kie: KieEmulatorHandle) -> None:
    kie.configure(generation_seconds=5)
    generation = api.wait(api.create()["id"], {"generating"})
    canceled = api.http.post(f"/v1/generations/{generation['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    again = api.http.post(f"/v1/generations/{generation['id']}/cancel")
    assert again.status_code == 409 and "already canceled" in again.json()["detail"]
    time.sleep(1.5)
    assert api.get(generation["id"])["status"] == "canceled"


def test_retry_makes_a_linked_generation(api: Api, kie: KieEmulatorHandle) -> None:
    kie.fault("fail", flag=3, error_code=501, msg="Video generation failed")
    failed = api.wait(api.create(files=[png_bytes()], product_name="Lamp")["id"])
    assert failed["status"] == "failed" and failed["links"]["retry"].endswith("/retry")
    retried = api.http.post(f"/v1/generations/{failed['id']}/retry")
    assert retried.status_code == 201
    child = api.wait(retried.json()["id"])
    assert child["status"] == "completed" and child["parent_id"] == failed["id"]
    assert child["references"] == failed["references"] and child["spec"] == failed["spec"]
    assert api.http.post(f"/v1/generations/{child['id']}/retry").status_code == 409


def test_idempotency_key_under_a_race(api: Api, kie: KieEmulatorHandle) -> None:
    headers = {"Idempotency-Key": f"order-{time.monotonic_ns()}"}

    def post() -> httpx.Response:
        with httpx.Client(base_url=api.url, timeout=30) as client:
            return client.post("/v1/generations", json={"product_name": "Race"}, headers=headers)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post(), range(4)))
    ids = {answer.json()["id"] for answer in answers}
    assert len(ids) == 1 and sorted(answer.status_code for answer in answers).count(201) == 1
    api.wait(ids.pop())
    assert kie.calls("generate") == 1


def test_list_filter_and_pages(api: Api, kie: KieEmulatorHandle) -> None:
    kie.fault("fail", count=2)
    made = [api.create(product_name=f"item {n}")["id"] for n in range(5)]
    for generation_id in made:
        api.wait(generation_id)
    seen: list[str] = []
    cursor = None
    while True:
        page = api.http.get("/v1/generations", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen.index(made[-1]) < seen.index(made[0]), "newest first"
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    failed = api.http.get("/v1/generations", params={"status": "failed", "limit": 100}).json()["items"]
    assert {item["status"] for item in failed} == {"failed"}
    assert len(set(made) & {item["id"] for item in failed}) == 2


def test_events_follow_each_change_within_a_second(api: Api, kie: KieEmulatorHandle) -> None:
    kie.configure(generation_seconds=1.0)
    generation = api.create()
    arrivals: list[tuple[float, dict]] = []
    import json
    from datetime import datetime

    with httpx.stream("GET", f"{api.url}/v1/generations/{generation['id']}/events", timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                arrivals.append((time.time(), json.loads(line[5:])))
    final = arrivals[-1][1]
    assert final["status"] == "completed"
    seen = {entry["status"] for _, entry in arrivals}
    assert {"generating", "completed"} <= seen
    previous = 0
    for arrived, entry in arrivals:
        if len(entry["history"]) == previous:
            continue  # a field changed (prompt written, provider link learnt), not the status
        previous = len(entry["history"])
        changed = datetime.fromisoformat(entry["history"][-1]["at"]).timestamp()
        assert arrived - changed < 1.0, f"{entry['status']} reached the stream {arrived - changed:.2f} s late"
    assert [entry["status"] for _, entry in arrivals if entry is not None][-1] == "completed"


def test_health_readiness_and_metrics(api: Api) -> None:
    assert api.http.get("/healthz").json() == {"status": "ok"}
    ready = api.http.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"]["providers"] == ["kie", "local"]
    api.wait(api.create()["id"])
    metrics = api.http.get("/metrics").text
    assert 'veo31_generations{provider="kie",status="completed"}' in metrics
    assert "veo31_http_request_seconds_bucket" in metrics
    # Labelled by route template, not by the path with its id in it.
    read = 'method="GET",route="/v1/generations/{generation_id}",status="200"'
    assert f"veo31_http_request_seconds_count{{{read}}}" in metrics


def test_step1_analysis_shapes_the_prompt(api: Api, kie: KieEmulatorHandle) -> None:
    from pathlib import Path

    photo = (Path(__file__).parents[1] / "fixtures" / "product-on-white.jpg").read_bytes()
    done = api.wait(api.create(files=[photo], product_name="Red bottle")["id"])
    assert done["status"] == "completed"
    analysis = done["analysis"]
    assert analysis["analyzer"] == "local" and analysis["colours"][:2] == ["red", "white"]
    assert analysis["background_surfaces"] == "a plain white studio background"
    sent = kie.task(done["provider_task_id"])["params"]["prompt"]
    assert "Scene notes: the product is red" in sent and "plain white studio background" in sent


def test_own_prompt_skips_analysis(api: Api) -> None:
    done = api.wait(api.create(files=[png_bytes()], prompt="Exactly this prompt")["id"])
    assert done["analysis"] is None and done["prompt"] == "Exactly this prompt"


@pytest.mark.skipif(KIND != "sqlite", reason="SQLite's journal mode")
def test_the_checkpoints_on_sqlite_keep_a_write_ahead_log(api: Api) -> None:
    """DBOS builds its SQLite engine on the rollback journal, where a commit shuts every reader out; veo31 puts
    the checkpoint database in WAL mode before DBOS opens it."""
    api.wait(api.create(product_name="Lamp")["id"])
    with contextlib.closing(sqlite3.connect(api.data_dir / "veo31-dbos.db")) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
