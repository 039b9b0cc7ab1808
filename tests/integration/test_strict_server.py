"""A `veo31 serve` subprocess as a careful operator runs it: API tokens, no callbacks (poll only), private URLs
refused (only 127.0.0.2 allowed, standing in for an internal image host), a short deadline.

Here: authentication, the bad-input table (every case a 4xx with a message, nothing half-written), polling
without callbacks, an uncertain submission without a callback to resolve it, and a timed-out generation
fetched later."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, ServeProcess, png_bytes
from tests.integration.conftest import free_port
from veo31.emulators.serve import ServerThread

TOKEN = "strict-server-token-7f3a9c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    """An image server on 127.0.0.2 (the one private address the strict server may fetch from)."""
    elsewhere = ServerThread(
        Starlette(routes=[Route("/ok.png", lambda r: Response(png_bytes(), media_type="image/png"))])
    )
    elsewhere.start()

    async def huge(_: Request) -> Response:
        async def chunks() -> Any:
            for _ in range(30):
                yield b"\0" * (1024 * 1024)

        return StreamingResponse(chunks(), media_type="image/png")

    routes = [
        Route("/ok.png", lambda r: Response(png_bytes(), media_type="image/png")),
        Route("/text.txt", lambda r: Response(b"just words", media_type="image/png")),
        Route("/huge.png", huge),
        Route("/to-private.png", lambda r: RedirectResponse(f"{elsewhere.url}/ok.png")),
        Route("/to-ok.png", lambda r: RedirectResponse("/ok.png")),
        Route("/loop.png", lambda r: RedirectResponse("/loop.png")),
    ]
    with ServerThread(Starlette(routes=routes), host="127.0.0.2") as server:
        yield server.url
    elsewhere.stop()


@pytest.fixture(scope="module")
def strict(kie_server: KieEmulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    data_dir = tmp_path_factory.mktemp("strict")
    server = ServeProcess(
        {
            "KIE_API_KEY": KIE_TEST_KEY,
            "KIE_BASE_URL": kie_server.url,
            "KIE_UPLOAD_BASE_URL": kie_server.url,
            "VEO31_API_TOKENS": f"{TOKEN},second-token-1234",
            "VEO31_ALLOWED_PRIVATE_NETWORKS": "127.0.0.2/32",
            "VEO31_FIRST_POLL_SECONDS": "0.3",
            "VEO31_MAX_POLL_SECONDS": "0.5",
            "VEO31_GENERATION_DEADLINE_SECONDS": "4",
        },
        free_port(),
        str(data_dir),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def http(strict: ServeProcess, kie: KieEmulatorHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=strict.url, headers=AUTH, timeout=60) as client:
        yield client


def wait(http: httpx.Client, generation_id: str, statuses: set[str], timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/v1/generations/{generation_id}").json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body["history"]
        time.sleep(0.1)


def image(width: int, height: int, kind: str = "PNG", mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format=kind)
    return buffer.getvalue()


def test_tokens_guard_everything_but_health_and_signed_links(strict: ServeProcess, http: httpx.Client) -> None:
    assert httpx.get(f"{strict.url}/healthz").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = httpx.get(f"{strict.url}/v1/generations", headers=headers)
        assert refused.status_code == 401 and "VEO31_API_TOKENS" in refused.json()["detail"]
        assert TOKEN not in refused.text
    assert httpx.get(f"{strict.url}/v1/generations", headers={"Authorization": "Bearer second-token-1234"}).is_success
    done = wait(http, http.post("/v1/generations", json={}).json()["id"], {"completed"})
    assert "sig=" in done["video_url"]
    assert httpx.get(done["video_url"]).status_code == 200, "a signed link works without a token"
    assert httpx.get(done["poster_url"]).status_code == 200
    unsigned = done["video_url"].split("?")[0]
    assert httpx.get(unsigned).status_code == 401
    assert httpx.get(unsigned + "?sig=0123456789abcdef0123456789abcdef").status_code == 401
    assert httpx.get(unsigned, params={"sig": "éé✓"}).status_code == 401
    assert httpx.get(unsigned, headers=AUTH).status_code == 200
    for path in ("/v1/providers", "/v1/generations/x/upgrade"):
        assert httpx.request("GET" if "providers" in path else "POST", f"{strict.url}{path}").status_code == 401


def test_the_page_and_session_need_no_token_and_show_none(strict: ServeProcess) -> None:
    page = httpx.get(f"{strict.url}/veo31")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = httpx.get(f"{strict.url}/static/app.js")
    assert script.status_code == 200
    for text in (page.text, script.text):
        assert TOKEN not in text and KIE_TEST_KEY not in text
    closed = {"token_required": True, "token_valid": False}
    assert httpx.get(f"{strict.url}/v1/session").json() == closed
    assert httpx.get(f"{strict.url}/v1/session", headers=AUTH).json() == {**closed, "token_valid": True}


def test_polling_without_callbacks(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    done = wait(http, http.post("/v1/generations", json={}).json()["id"], {"completed", "failed"})
    assert done["status"] == "completed"
    assert kie.task(done["provider_task_id"])["callBackUrl"] is None


def test_uncertain_submission_without_callbacks_fails_and_is_not_resent(
    http: httpx.Client, kie: KieEmulatorHandle
) -> None:
    kie.fault("drop", endpoint="generate")
    done = wait(http, http.post("/v1/generations", json={}).json()["id"], {"completed", "failed"})
    assert done["status"] == "failed" and done["error"]["kind"] == "submission_uncertain"
    assert "kie.ai/logs" in done["error"]["message"] and "did not send it again" in done["error"]["message"]
    assert kie.calls("generate") == 1


def test_a_timed_out_generation_keeps_its_task_and_is_fetched_later(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    kie.configure(generation_seconds=6)
    timed_out = wait(http, http.post("/v1/generations", json={}).json()["id"], {"completed", "failed"})
    assert timed_out["error"]["kind"] == "timed_out" and timed_out["provider_task_id"]
    assert timed_out["provider_task_id"] in timed_out["error"]["message"]
    early = http.post(f"/v1/generations/{timed_out['id']}/fetch")
    assert early.status_code == 200
    assert wait(http, timed_out["id"], {"failed"})["error"]["kind"] == "timed_out", "still generating: wait again"
    time.sleep(6)
    http.post(f"/v1/generations/{timed_out['id']}/fetch").raise_for_status()
    done = wait(http, timed_out["id"], {"completed"})
    assert done["provider_task_id"] == timed_out["provider_task_id"] and kie.calls("generate") == 1


BAD_JSON: list[tuple[str, Any, str]] = [
    ("not JSON", b"{nope", "json"),
    ("a list", [1, 2], "object"),
    ("unknown field", {"colour": "red"}, "colour"),
    ("duration as words", {"duration_seconds": "eight"}, "duration_seconds"),
    ("duration Kie cannot do", {"duration_seconds": 5}, "Kie.ai makes 8 s videos from text alone, not 5 s"),
    ("duration zero", {"duration_seconds": 0}, "duration_seconds"),
    ("resolution", {"resolution": "8k"}, "resolution"),
    ("aspect ratio", {"aspect_ratio": "1:1"}, "aspect_ratio"),
    ("use case", {"use_case": "space_opera"}, "use_case"),
    ("provider unknown", {"provider": "openai"}, "provider"),
    ("provider not configured", {"provider": "gemini"}, "gemini"),
    ("model tier", {"model_tier": "ultra"}, "model_tier"),
    ("reference mode, no images", {"mode": "reference"}, "Kie.ai makes videos with 1–3 product photos, not 0"),
    (
        "reference mode on quality",
        {"mode": "reference", "model_tier": "quality", "image_urls": ["IMG"]},
        "offers the fast or lite model with 1–3 product photos, not quality",
    ),
    ("four images", {"image_urls": ["IMG"] * 4}, "image_urls"),
    ("urls as a string", {"image_urls": "IMG"}, "image_urls"),
    ("negative seed", {"seed": -1}, "seed"),
    ("empty prompt", {"prompt": ""}, "prompt"),
    ("long product name", {"product_name": "x" * 300}, "product_name"),
    ("ftp URL", {"image_urls": ["ftp://example.com/a.png"]}, "not an http(s) URL"),
    ("loopback URL", {"image_urls": ["http://127.0.0.1:9/a.png"]}, "VEO31_ALLOW_PRIVATE_URLS"),
    ("octal loopback URL", {"image_urls": ["http://0177.0.0.1/a.png"]}, "not a valid URL"),
    ("unclosed IPv6 bracket", {"image_urls": ["http://[::1"]}, "not a valid URL"),
    ("empty punycode label", {"image_urls": ["http://xn--/"]}, "not a valid URL"),
    ("6to4 address of 127.0.0.1", {"image_urls": ["http://[2002:7f00:1::1]/a.png"]}, "non-public"),
    ("6to4 address of the metadata host", {"image_urls": ["http://[2002:a9fe:a9fe::1]/"]}, "non-public"),
    ("IPv6 site-local", {"image_urls": ["http://[fec0::1]/a.png"]}, "non-public"),
    ("6to4 relay anycast", {"image_urls": ["http://192.88.99.1/a.png"]}, "non-public"),
    ("a 2,001-character URL", {"image_urls": ["https://example.com/" + "x" * 1981]}, "at most 2000 characters"),
    ("NUL in the product name", {"product_name": "n\u0000ul"}, "control character"),
    ("a bell in the prompt", {"prompt": "a mug\u0007 turning"}, "control character"),
    ("localhost URL", {"image_urls": ["http://localhost:9/a.png"]}, "non-public"),
    ("IPv6 loopback", {"image_urls": ["http://[::1]:9/a.png"]}, "non-public"),
    ("cloud metadata", {"image_urls": ["http://169.254.169.254/latest/meta-data"]}, "non-public"),
    ("private network", {"image_urls": ["http://10.1.2.3/a.png"]}, "non-public"),
    ("unresolvable host", {"image_urls": ["http://no-such-host.invalid/a.png"]}, "does not resolve"),
    ("redirect to a private address", {"image_urls": ["HOST/to-private.png"]}, "non-public"),
    ("redirect loop", {"image_urls": ["HOST/loop.png"]}, "redirects more than"),
    ("missing image", {"image_urls": ["HOST/missing.png"]}, "HTTP 404"),
    ("text served as an image", {"image_urls": ["HOST/text.txt"]}, "not a readable"),
    ("huge image", {"image_urls": ["HOST/huge.png"]}, "larger than 20 MB"),
]


def stored_state(strict: ServeProcess) -> tuple[int, list[str], list[str]]:
    data = Path(strict.env["VEO31_DATA_DIR"])
    images = (
        sorted(p.name for p in (data / "blobs" / "images").glob("*")) if (data / "blobs" / "images").exists() else []
    )
    partial = sorted(p.name for p in (data / "blobs" / ".partial").glob("*"))
    listed = httpx.get(f"{strict.url}/v1/generations", params={"limit": 100}, headers=AUTH).json()["items"]
    return len(listed), images, partial


@pytest.mark.parametrize(("case", "body", "words"), BAD_JSON, ids=[case for case, _, _ in BAD_JSON])
def test_bad_json_requests(
    strict: ServeProcess, http: httpx.Client, image_host: str, case: str, body: Any, words: str
) -> None:
    before = stored_state(strict)
    if isinstance(body, dict) and "image_urls" in body:
        urls = body["image_urls"]

        def fill(url: str) -> str:
            return f"{image_host}/ok.png" if url == "IMG" else url.replace("HOST", image_host)

        body = {**body, "image_urls": [fill(u) for u in urls] if isinstance(urls, list) else fill(urls)}
    content = body if isinstance(body, bytes) else None
    response = http.post(
        "/v1/generations", content=content, json=None if content else body, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert words.lower() in response.json()["detail"].lower(), response.json()
    assert stored_state(strict) == before, "nothing half-written"


def bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")
    return buffer.getvalue()


BAD_UPLOADS: list[tuple[str, Any, str]] = [
    ("a text file", lambda: b"hello, this is text", "not a readable"),
    ("an empty file", lambda: b"", "is empty"),
    ("a fake PNG", lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 500, "not a readable"),
    ("a truncated PNG", lambda: png_bytes()[:300], "damaged"),
    ("a tiny image", lambda: image(10, 10), "at least 64 px"),
    ("a GIF", lambda: image(200, 200, "GIF", "P"), "GIF"),
    ("a decompression bomb", bomb, "megapixels"),
    ("a 21 MB file", lambda: b"\xff\xd8\xff" + b"\0" * (21 * 1024 * 1024), "larger than 20 MB"),
]


@pytest.mark.parametrize(("case", "make", "words"), BAD_UPLOADS, ids=[case for case, _, _ in BAD_UPLOADS])
def test_bad_uploads(strict: ServeProcess, http: httpx.Client, case: str, make: Any, words: str) -> None:
    before = stored_state(strict)
    response = http.post("/v1/generations", files=[("images", ("x.png", make(), "image/png"))])
    assert response.status_code == 422 and words in response.json()["detail"], response.text
    assert stored_state(strict) == before


OTHER: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("unknown id", "GET", "/v1/generations/0123456789abcdef0123456789abcdef", {}, 404),
    ("cancel unknown", "POST", "/v1/generations/nope/cancel", {}, 404),
    ("retry unknown", "POST", "/v1/generations/nope/retry", {}, 404),
    ("video of unknown", "GET", "/v1/generations/nope/video", {}, 404),
    ("events of unknown", "GET", "/v1/generations/nope/events", {}, 404),
    ("list by a made-up status", "GET", "/v1/generations?status=exploded", {}, 422),
    ("list with limit 0", "GET", "/v1/generations?limit=0", {}, 422),
    ("list with a forged cursor", "GET", "/v1/generations?cursor=not-a-cursor", {}, 422),
    ("callback with a made-up token", "POST", "/v1/callbacks/kie/made-up", {"json": {"code": 200}}, 404),
    (
        "wrong content type",
        "POST",
        "/v1/generations",
        {"content": b"x", "headers": {"Content-Type": "text/plain"}},
        422,
    ),
    ("unexpected file field", "POST", "/v1/generations", {"files": {"photo": ("a.png", b"x")}}, 422),
    ("old upload route without an image", "POST", "/veo31/generate", {"data": {"use_case": "general"}}, 422),
    ("old URL route without URLs", "POST", "/veo31/generate-from-urls", {"data": {"use_case": "general"}}, 422),
    (
        "old URL route with empty URLs",
        "POST",
        "/veo31/generate-from-urls",
        {"data": {"reference_image_urls": ["", " , "]}},
        422,
    ),
    (
        "old URL route, duration as words",
        "POST",
        "/veo31/generate-from-urls",
        {"data": {"reference_image_urls": "https://example.com/a.png", "duration_seconds": "abc"}},
        422,
    ),
    ("old status of an unknown task", "GET", "/veo31/kie-status/unknown-task", {}, 404),
    ("old status of a task id of no task's shape", "GET", "/veo31/kie-status/%3Cscript%3E", {}, 404),
    ("NUL in a generation id", "GET", "/v1/generations/abc%00def", {}, 422),
    ("NUL in a query", "GET", "/v1/generations?cursor=%00", {}, 422),
    ("a 3 MB JSON body", "POST", "/v1/generations", {"json": {"product_name": "x" * 3_000_000}}, 413),
    ("metrics with a wrong token", "GET", "/metrics", {"headers": {"Authorization": "Bearer wrong"}}, 401),
    (
        "a page of another site",
        "POST",
        "/v1/generations",
        {"json": {}, "headers": {"Origin": "https://evil.example"}},
        403,
    ),
    ("a callback body for no generation", "POST", "/v1/callbacks/kie/nobody", {"content": b"[" * 100}, 404),
    (
        "old URL route, a 300-character product name",
        "POST",
        "/veo31/generate-from-urls",
        {"data": {"reference_image_urls": "https://example.com/a.png", "product_name": "x" * 300}},
        422,
    ),
    (
        "old analyse route, a 5000-character prompt",
        "POST",
        "/veo31/analyze-and-prompt",
        {"files": {"reference_image1": ("a.png", b"x")}, "data": {"prompt": "p" * 5000}},
        422,
    ),
]


@pytest.mark.parametrize(("case", "method", "path", "options", "status"), OTHER, ids=[c[0] for c in OTHER])
def test_other_bad_requests(
    strict: ServeProcess, http: httpx.Client, case: str, method: str, path: str, options: dict[str, Any], status: int
) -> None:
    before = stored_state(strict)
    response = http.request(method, path, **options)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert stored_state(strict) == before


def test_good_urls_through_the_guard(http: httpx.Client, image_host: str) -> None:
    body = {"image_urls": [f"{image_host}/ok.png", f"{image_host}/to-ok.png"], "mode": "first_last"}
    response = http.post("/v1/generations", json=body)
    assert response.status_code == 201, response.text
    assert wait(http, response.json()["id"], {"completed", "failed"})["status"] == "completed"


def test_the_sweeper_retrieves_a_late_video_by_itself(kie: KieEmulatorHandle, tmp_path: Path) -> None:
    kie.configure(generation_seconds=5)
    server = ServeProcess(
        {
            "KIE_API_KEY": KIE_TEST_KEY,
            "KIE_BASE_URL": kie.url,
            "KIE_UPLOAD_BASE_URL": kie.url,
            "VEO31_FIRST_POLL_SECONDS": "0.3",
            "VEO31_GENERATION_DEADLINE_SECONDS": "2",
            "VEO31_SWEEP_INTERVAL_SECONDS": "1",
        },
        free_port(),
        str(tmp_path / "data"),
    )
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            generation_id = client.post("/v1/generations", json={}).json()["id"]
            assert wait(client, generation_id, {"failed"})["error"]["kind"] == "timed_out"
            done = wait(client, generation_id, {"completed"}, timeout=30)
    finally:
        server.stop()
    details = [change["detail"] or "" for change in done["history"]]
    assert any("asking Kie.ai again" in detail for detail in details)
    assert kie.calls("generate") == 1
