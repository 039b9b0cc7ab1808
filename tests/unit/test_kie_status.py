"""read_kie_status and extract_video_url: documented shapes, legacy shapes, and junk that must never raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from veo31.domain import ProviderState, ProviderStatus
from veo31.errors import ContentRejectedError, GenerationFailedError, TaskNotFoundError
from veo31.providers.kie.status import as_url_list, extract_video_url, parse_kie_time, read_kie_status

URL = "https://tempfile.aiquickdraw.com/v/9b2e_1767658623.mp4"
URL2 = "https://tempfile.aiquickdraw.com/v/second_1767658623.mp4"


def record(**data: object) -> dict[str, object]:
    return {"code": 200, "msg": "success", "data": {"taskId": "9b2e", **data}}


def test_generating() -> None:
    status = read_kie_status(record(successFlag=0, response=None, paramJson='{"prompt": "p", "model": "veo3_fast"}'))
    assert status.state is ProviderState.GENERATING and status.task_id == "9b2e"
    assert status.sent_prompt == "p"


def test_consumed_credits_become_a_cost_at_the_price_of_a_credit() -> None:
    body = record(successFlag=1, response={"resultUrls": [URL]}, creditsConsumed=168)
    status = read_kie_status(body, credit_usd=0.005)
    assert status.reported_cost is not None
    assert (status.reported_cost.usd, status.reported_cost.basis) == (0.84, "Kie.ai reported 168 credits")
    assert read_kie_status(body).reported_cost is None, "without a credit's price there is no cost to tell"
    assert (
        read_kie_status(
            record(successFlag=1, response={"resultUrls": [URL]}, creditsConsumed=True), credit_usd=0.005
        ).reported_cost
        is None
    )


def test_documented_success_keeps_origin_urls_and_resolution() -> None:
    body = record(
        successFlag=1,
        response={"taskId": "9b2e", "resultUrls": [URL], "originUrls": [URL2], "resolution": "720p"},
        createTime="2026-03-02 10:25:00",
        completeTime=1772418600000,
    )
    status = read_kie_status(body)
    assert status.state is ProviderState.SUCCEEDED
    assert (status.video_url, status.origin_urls, status.resolution) == (URL, (URL2,), "720p")
    assert status.created_at == datetime(2026, 3, 2, 2, 25, tzinfo=UTC)
    assert status.completed_at == datetime.fromtimestamp(1772418600, tz=UTC)
    assert status.raw is body


@pytest.mark.parametrize(
    "urls",
    [[URL], json.dumps([URL]), f"[{URL}]", URL, f'["{URL}", "{URL2}"]'],
    ids=["list", "json-string", "unquoted-brackets", "bare-string", "two-in-json"],
)
def test_result_urls_as_list_or_string(urls: object) -> None:
    status = read_kie_status(record(successFlag=1, response={"resultUrls": urls}))
    assert status.state is ProviderState.SUCCEEDED and status.video_urls[0] == URL


def test_quickstart_path_data_result_urls() -> None:
    status = read_kie_status(record(successFlag=1, response=None, resultUrls=json.dumps([URL])))
    assert status.video_url == URL


def test_extension_prefers_the_full_video() -> None:
    status = read_kie_status(record(successFlag=1, response={"resultUrls": [URL2], "fullResultUrls": [URL]}))
    assert status.video_url == URL and status.video_urls == (URL2,)


def test_success_flag_without_urls_is_unknown_not_success() -> None:
    status = read_kie_status(record(successFlag=1, response={"resultUrls": None}))
    assert status.state is ProviderState.UNKNOWN and status.raw is not None


@pytest.mark.parametrize("flag", [2, 3, "3", 7])
def test_failure_flags(flag: object) -> None:
    message = "Your prompt was flagged by Website as violating content policies."
    status = read_kie_status(record(successFlag=flag, response=None, errorCode=400, errorMessage=message))
    assert status.state is ProviderState.FAILED
    assert isinstance(status.error, ContentRejectedError) and message in status.error.message


def test_failure_with_null_strings() -> None:
    status = read_kie_status(record(successFlag=3, errorCode="null", errorMessage="null"))
    assert status.state is ProviderState.FAILED and isinstance(status.error, GenerationFailedError)


def test_envelope_error_is_a_failed_status() -> None:
    status = read_kie_status({"code": 422, "msg": "record is null", "data": None})
    assert status.state is ProviderState.FAILED and isinstance(status.error, TaskNotFoundError)


def test_callback_success_and_failure_shapes() -> None:
    success = {
        "code": 200,
        "msg": "Veo3.1 video generated successfully.",
        "data": {
            "taskId": "9b2e",
            "info": {"resultUrls": json.dumps([URL]), "originUrls": None, "resolution": "1080p"},
            "promptJson": '{"aspectRatio": "16:9"}',
            "fallbackFlag": False,
        },
    }
    status = read_kie_status(success)
    assert (status.state, status.video_url, status.resolution, status.task_id) == (
        ProviderState.SUCCEEDED,
        URL,
        "1080p",
        "9b2e",
    )
    failure = {
        "code": 400,
        "msg": "Your prompt was flagged by Website as violating content policies.",
        "data": {"taskId": "9b2e", "fallbackFlag": False},
    }
    failed = read_kie_status(failure)
    assert failed.state is ProviderState.FAILED and isinstance(failed.error, ContentRejectedError)
    assert failed.task_id == "9b2e"


def test_4k_callback_snake_case_shape() -> None:
    body = {"code": 200, "msg": "ok", "data": {"task_id": "k4", "info": {"result_urls": [URL]}}}
    status = read_kie_status(body)
    assert status.task_id == "k4" and status.video_url == URL


LEGACY = {
    "old documented": {"status": "completed", "result": {"video_url": URL}},
    "video_url at the root": {"status": "completed", "video_url": URL},
    "under data": {"status": "completed", "data": {"video_url": URL}},
    "result.videoUrl": {"status": "success", "result": {"videoUrl": URL}},
    "result.video": {"status": "done", "result": {"video": URL}},
    "bare url": {"url": URL},
    "mp4 link anywhere": {"payload": {"notes": ["see", f"rendered to {URL} yesterday"]}},
    "kie host link without .mp4": {"files": ["https://file.aiquickdraw.com/p/abc123"]},
}


@pytest.mark.parametrize("body", LEGACY.values(), ids=LEGACY.keys())
def test_legacy_shapes(body: dict[str, object]) -> None:
    status = read_kie_status(body)
    assert status.state is ProviderState.SUCCEEDED
    assert status.video_url is not None and status.video_url == extract_video_url(body)


def test_legacy_processing_and_failed_words() -> None:
    assert read_kie_status({"status": "processing", "task_id": "abc"}).state is ProviderState.GENERATING
    failed = read_kie_status({"status": "failed", "error": "quota"})
    assert failed.state is ProviderState.FAILED and failed.error is not None and "quota" in failed.error.message


@pytest.mark.parametrize("body", [{}, {"status": "completed"}, {"hello": "world"}, [], "text", 42, None])
def test_unreadable_shapes_are_unknown_with_the_body_kept(body: object) -> None:
    status = read_kie_status(body)
    assert status.state is ProviderState.UNKNOWN and status.raw == body


def test_url_list_drops_non_links() -> None:
    assert as_url_list(["", None, 3, "not a url", URL]) == (URL,)
    assert as_url_list("null") == () and as_url_list("[]") == () and as_url_list({"a": URL}) == ()


def test_time_parsing() -> None:
    assert parse_kie_time("2026-01-01 08:00:00") == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert parse_kie_time(1767225600) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_kie_time("yesterday") is None and parse_kie_time(10**30) is None and parse_kie_time(True) is None


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [URL, "null", "[", "[null]", json.dumps([URL]), "https://x", "0", "1", "3", "completed", "failed", "processing"]
    )
)
KEYS = [
    "code",
    "msg",
    "data",
    "taskId",
    "task_id",
    "successFlag",
    "response",
    "resultUrls",
    "originUrls",
    "fullResultUrls",
    "resolution",
    "errorCode",
    "errorMessage",
    "info",
    "status",
    "state",
    "video_url",
    "videoUrl",
    "result",
    "video",
    "url",
    "paramJson",
    "createTime",
    "completeTime",
    "mediaIds",
    "result_urls",
]
junk = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(junk)
def test_junk_never_raises(body: object) -> None:
    status = read_kie_status(body)
    assert isinstance(status, ProviderStatus)
    assert status.state in ProviderState
    if status.state is ProviderState.SUCCEEDED:
        assert status.video_url is not None and status.video_url.startswith("http")
    if status.state is ProviderState.FAILED:
        assert status.error is not None
    assert extract_video_url(body) is None or isinstance(extract_video_url(body), str)
