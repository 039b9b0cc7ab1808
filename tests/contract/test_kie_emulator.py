"""The Kie emulator answers bad input as Kie does: the same envelopes and codes (spec §4, §5, §10, §12)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, png_bytes


@pytest.fixture
def http(kie: KieEmulatorHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kie.url, headers={"Authorization": f"Bearer {KIE_TEST_KEY}"}, timeout=10) as client:
        yield client


def generate(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/api/v1/veo/generate", json=body)
    assert response.status_code == 200, "envelope style: errors arrive with HTTP 200"
    return response.json()


IMG = "IMAGE"  # replaced by a reachable uploaded image in the test


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"model": "veo3_fast"}, 422, "prompt"),
        ({"prompt": "   "}, 422, "prompt"),
        ({"prompt": "x", "model": "veo4"}, 404, "model"),
        ({"prompt": "x", "aspect_ratio": "1:1"}, 422, "aspect_ratio"),
        ({"prompt": "x", "aspectRatio": "4:3"}, 422, "aspect_ratio"),
        ({"prompt": "x", "resolution": "2k"}, 422, "resolution"),
        ({"prompt": "x", "seeds": 5}, 422, "seeds"),
        ({"prompt": "x", "generationType": "IMAGE_2_VIDEO"}, 422, "generationType"),
        ({"prompt": "x", "generationType": "REFERENCE_2_VIDEO"}, 422, "1 to 3"),
        ({"prompt": "x", "generationType": "TEXT_2_VIDEO", "imageUrls": [IMG]}, 422, "0 to 0"),
        ({"prompt": "x", "generationType": "REFERENCE_2_VIDEO", "imageUrls": [IMG] * 4}, 422, "1 to 3"),
        ({"prompt": "x", "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO", "imageUrls": [IMG] * 3}, 422, "1 to 2"),
        ({"prompt": "x", "generationType": "REFERENCE_2_VIDEO", "model": "veo3", "imageUrls": [IMG]}, 422, "veo3_fast"),
        ({"prompt": "x", "imageUrls": "https://a.example/b.png"}, 422, "list"),
        ({"prompt": "x", "callBackUrl": "ftp://x"}, 422, "callBackUrl"),
    ],
)
def test_generate_refuses_bad_input(
    http: httpx.Client, kie: KieEmulatorHandle, body: dict, code: int, words: str
) -> None:
    image = http.post(
        "/api/file-stream-upload", files={"file": ("a.png", png_bytes())}, data={"uploadPath": "t"}
    ).json()["data"]["downloadUrl"]
    if isinstance(body.get("imageUrls"), list):
        body = {**body, "imageUrls": [image if url == IMG else url for url in body["imageUrls"]]}
    answer = generate(http, **body)
    assert answer["code"] == code and words in answer["msg"] and answer["data"] is None
    assert kie.state()["tasks"] == []


def test_both_aspect_ratio_spellings_are_accepted(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    assert generate(http, prompt="x", aspect_ratio="9:16")["code"] == 200
    assert generate(http, prompt="x", aspectRatio="9:16")["code"] == 200
    assert [task["height"] for task in kie.state()["tasks"]] == [1280, 1280]


def test_unreachable_and_non_image_urls(http: httpx.Client, closed_port_url: str, kie: KieEmulatorHandle) -> None:
    assert generate(http, prompt="x", imageUrls=[f"{closed_port_url}/a.png"])["code"] == 451
    text = http.post(
        "/api/file-base64-upload", json={"base64Data": base64.b64encode(b"hello").decode(), "uploadPath": "t"}
    ).json()["data"]["downloadUrl"]
    answer = generate(http, prompt="x", imageUrls=[text])
    assert answer["code"] == 451 and "Failed to fetch the image" in answer["msg"]


def test_key_checks(kie: KieEmulatorHandle) -> None:
    with httpx.Client(base_url=kie.url) as anonymous:
        assert anonymous.get("/api/v1/chat/credit").json() == {
            "code": 401,
            "msg": "You do not have access permissions",
            "data": None,
        }
        wrong = anonymous.get("/api/v1/chat/credit", headers={"Authorization": "Bearer nope-nope-nope"}).json()
        assert wrong["code"] == 401 and "nope" not in wrong["msg"]
        upload = anonymous.post("/api/file-base64-upload", json={}, headers={"Authorization": "Bearer nope"}).json()
        assert upload == {"success": False, "code": 401, "msg": "Authentication failed: Invalid API Key", "data": None}


def test_requests_without_a_user_agent_meet_the_firewall(kie: KieEmulatorHandle) -> None:
    with httpx.Client(base_url=kie.url, headers={"Authorization": f"Bearer {KIE_TEST_KEY}"}) as bare:
        del bare.headers["User-Agent"]
        response = bare.get("/api/v1/chat/credit")
    assert (response.status_code, response.text) == (403, "error code: 1010")


def test_http_error_style(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    kie.configure(error_style="http")
    response = http.post("/api/v1/veo/generate", json={"prompt": ""})
    assert response.status_code == 422 and response.json()["code"] == 422
    assert http.get("/api/v1/veo/record-info", params={"taskId": "missing"}).status_code == 422


def test_record_info_for_unknown_and_old_tasks(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    assert http.get("/api/v1/veo/record-info", params={"taskId": "missing"}).json() == {
        "code": 422,
        "msg": "record is null",
        "data": None,
    }
    assert http.get("/api/v1/veo/record-info").json()["msg"] == "taskId is required"
    task_id = generate(http, prompt="x")["data"]["taskId"]
    kie.configure(retention_seconds=0)
    assert (
        http.get("/api/v1/veo/record-info", params={"taskId": task_id})
        .json()["msg"]
        .startswith("Temporarily supports records within 14 days")
    )


def test_record_info_shape_while_generating(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    kie.configure(generation_seconds=30)
    task_id = generate(http, prompt="x", watermark="W")["data"]["taskId"]
    data = http.get("/api/v1/veo/record-info", params={"taskId": task_id}).json()["data"]
    assert data["successFlag"] == 0 and data["response"] is None and data["fallbackFlag"] is False
    assert isinstance(data["paramJson"], str) and '"watermark": "W"' in data["paramJson"]
    assert len(data["createTime"]) == 19 and data["completeTime"] is None


def test_upload_host_refusals(http: httpx.Client) -> None:
    no_path = http.post("/api/file-stream-upload", files={"file": ("a.png", png_bytes())}).json()
    assert no_path["success"] is False and no_path["code"] == 400 and "uploadPath" in no_path["msg"]
    assert http.post("/api/file-stream-upload", data={"uploadPath": "t"}).json()["code"] == 400
    bad = http.post("/api/file-base64-upload", json={"base64Data": "***", "uploadPath": "t"}).json()
    assert bad["code"] == 400 and "Base64" in bad["msg"]
    assert http.post("/api/file-url-upload", json={"fileUrl": "nope", "uploadPath": "t"}).json()["code"] == 400
    assert http.post("/api/file-base64-upload", content=b"{not json").json()["code"] == 400


def test_uploads_expire(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    kie.configure(upload_ttl_seconds=0)
    url = http.post(
        "/api/file-base64-upload", json={"base64Data": base64.b64encode(png_bytes()).decode(), "uploadPath": "t"}
    ).json()["data"]["downloadUrl"]
    assert httpx.get(url).status_code == 404


def test_control_surface_refuses_bad_settings(kie: KieEmulatorHandle) -> None:
    assert kie.control.post("/_emulator/config", json={"generation_seconds": -1}).status_code == 400
    assert kie.control.post("/_emulator/config", json={"no_such_setting": 1}).status_code == 400
    assert kie.control.post("/_emulator/faults", json={"kind": "meteor"}).status_code == 400
    assert kie.control.post("/_emulator/credits", json={}).status_code == 400
    state = kie.state()
    assert "api_keys" not in state["config"] and "hmac_key" not in state["config"]


def test_a_request_that_never_arrived_whole_is_not_a_call(kie: KieEmulatorHandle) -> None:
    """Like Kie, the emulator acts on a request only once all of its body is in: a sender that dies one byte short
    has made no task and is counted apart (`generate:cut_off`), so "exactly N generate calls" means N requests."""
    import socket
    import time
    from urllib.parse import urlsplit

    body = b'{"prompt":"A lamp on a desk","model":"veo3_fast"}'
    target = urlsplit(kie.url)
    with socket.create_connection((target.hostname, target.port)) as connection:
        connection.sendall(
            b"POST /api/v1/veo/generate HTTP/1.1\r\nHost: emulator\r\nUser-Agent: test\r\n"
            + f"Authorization: Bearer {KIE_TEST_KEY}\r\nContent-Type: application/json\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:-1]
        )
        time.sleep(0.2)
    for _ in range(50):
        if kie.calls("generate:cut_off"):
            break
        time.sleep(0.05)
    assert kie.calls("generate:cut_off") == 1
    assert kie.calls("generate") == 0 and kie.state()["tasks"] == []
