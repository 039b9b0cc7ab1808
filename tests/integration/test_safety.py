"""veo31 attacked from outside, as a drive-by page or a careless client would, through a real `veo31 serve` (on
the suite's database: SQLite, or PostgreSQL under VEO31_TEST_DATABASE=postgresql): nobody spends a user's
credits or memory, and nothing is left half-done."""

from __future__ import annotations

import io
import secrets
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, ServeProcess, png_bytes
from tests.databases import database_for
from tests.integration.conftest import free_port
from veo31.emulators.serve import ServerThread
from veo31.store.db import create_db_engine
from veo31.store.tables import GenerationRow, utcnow

ALLOWED = "http://allowed.example"


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    routes = [Route("/ok.png", lambda r: Response(png_bytes(), media_type="image/png"))]
    with ServerThread(Starlette(routes=routes)) as server:
        yield server.url


@pytest.fixture(scope="module")
def served(kie_server: KieEmulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """No tokens (the default), callbacks, one listed origin and pages from disk; private URLs refused but for
    127.0.0.1 (the image host)."""
    data_dir = tmp_path_factory.mktemp("safety")
    port = free_port()
    server = ServeProcess(
        {
            "KIE_API_KEY": KIE_TEST_KEY,
            "KIE_BASE_URL": kie_server.url,
            "KIE_UPLOAD_BASE_URL": kie_server.url,
            "VEO31_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "VEO31_CORS_ORIGINS": f"null,{ALLOWED}",
            "VEO31_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32",
            "VEO31_FIRST_POLL_SECONDS": "0.3",
            "VEO31_MAX_POLL_SECONDS": "0.5",
            "VEO31_SWEEP_INTERVAL_SECONDS": "1",
            "VEO31_QUEUE_POLL_SECONDS": "0.2",
        },
        port,
        str(data_dir),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def http(served: ServeProcess, kie: KieEmulatorHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        yield client


def photo_form(**fields: str) -> dict[str, Any]:
    return {"files": [("images", ("p.png", png_bytes(), "image/png"))], "data": fields}


def count(http: httpx.Client) -> int:
    return len(http.get("/v1/generations", params={"limit": 100}).json()["items"])


def wait_final(http: httpx.Client, generation_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/v1/generations/{generation_id}").json()
        if body["status"] in ("completed", "failed", "canceled"):
            return body
        assert time.monotonic() < deadline, body["history"]
        time.sleep(0.1)


def rss_mb(server: ServeProcess, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(field)


# -- money ---------------------------------------------------------------------------------------------------------


def test_a_foreign_page_cannot_spend(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    before = count(http)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = http.post("/v1/generations", headers=headers, **photo_form())
        assert refused.status_code == 403 and "VEO31_CORS_ORIGINS" in refused.json()["detail"]
        old = http.post(
            "/veo31/generate-with-prompt",
            headers=headers,
            files={"reference_image1": ("a.png", png_bytes(), "image/png")},
            data={"prompt": "a cube turning slowly", "prefer_kie_api": "true"},
        )
        assert old.status_code == 403
    assert count(http) == before and kie.calls("generate") == 0
    # A listed origin, and the server's own, may; CORS answers name the listed one.
    allowed = http.post("/v1/generations", headers={"Origin": ALLOWED}, **photo_form())
    assert allowed.status_code == 201 and allowed.headers["access-control-allow-origin"] == ALLOWED
    own = http.post("/v1/generations", headers={"Origin": str(http.base_url).rstrip("/")}, **photo_form())
    assert own.status_code == 201
    # Pages opened from disk send Origin: null; preflights are answered too.
    preflight = http.options(
        "/v1/generations/x/cancel",
        headers={"Origin": "null", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x"},
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "null"
    assert http.get("/", headers={"Origin": "null"}).headers["access-control-allow-origin"] == "null"
    # Behind a reverse proxy, the forwarded host is this server's own; a Host that is no loopback name, on a
    # server without tokens, is a rebound DNS name, not this server.
    proxied = http.post(
        "/v1/generations",
        headers={"Origin": "https://shop.example", "X-Forwarded-Host": "shop.example", "X-Forwarded-Proto": "https"},
        **photo_form(),
    )
    assert proxied.status_code == 201, proxied.text
    rebound = http.post(
        "/v1/generations", headers={"Origin": "http://evil.example:8000", "Host": "evil.example:8000"}, **photo_form()
    )
    assert rebound.status_code == 403
    for made in (allowed, own, proxied):
        assert wait_final(http, made.json()["id"])["status"] == "completed"


def test_callbacks_are_exempt_from_the_origin_check(http: httpx.Client) -> None:
    answer = http.post("/v1/callbacks/kie/no-such-token", headers={"Origin": "https://evil.example"}, json={})
    assert answer.status_code == 404


def test_ten_retries_at_once_make_one_child(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    kie.fault("error", endpoint="generate", code=422, msg="prompt must be in English")
    failed = wait_final(http, http.post("/v1/generations", **photo_form()).json()["id"])
    assert failed["status"] == "failed" and kie.calls("generate") == 1

    def retry(_: int) -> httpx.Response:
        return http.post(f"/v1/generations/{failed['id']}/retry")

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(retry, range(10)))
    assert {answer.status_code for answer in answers} <= {200, 201}
    assert sorted(answer.status_code for answer in answers).count(201) == 1
    children = {answer.json()["id"] for answer in answers}
    assert len(children) == 1
    assert wait_final(http, children.pop())["status"] == "completed"
    assert kie.calls("generate") == 2, "one refused submission, then exactly one for the retry"


def test_idempotency_keys_are_bound_to_their_request(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    key = {"Idempotency-Key": f"order-{time.monotonic_ns()}"}
    first = http.post("/v1/generations", headers=key, **photo_form(product_name="Mug"))
    again = http.post("/v1/generations", headers=key, **photo_form(product_name="Mug"))
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    other = http.post("/v1/generations", headers=key, **photo_form(product_name="Teapot"))
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    # Cancel and retry take keys too: the same key repeats the answer instead of refusing or paying twice.
    created = http.post("/v1/generations", **photo_form(prompt="a cube turning", provider="local")).json()
    cancel_key = {"Idempotency-Key": f"cancel-{time.monotonic_ns()}"}
    canceled = [http.post(f"/v1/generations/{created['id']}/cancel", headers=cancel_key) for _ in range(2)]
    assert [answer.status_code for answer in canceled] == [200, 200]
    assert canceled[1].json()["status"] == "canceled"
    retry_key = {"Idempotency-Key": f"retry-{time.monotonic_ns()}"}
    retried = [http.post(f"/v1/generations/{created['id']}/retry", headers=retry_key) for _ in range(2)]
    assert [answer.status_code for answer in retried] == [201, 200]
    assert retried[0].json()["id"] == retried[1].json()["id"]
    misused = http.post(f"/v1/generations/{first.json()['id']}/cancel", headers=retry_key)
    assert misused.status_code == 409
    assert wait_final(http, first.json()["id"])["status"] == "completed"


def test_a_refused_status_check_is_not_the_tasks_outcome(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    """Kie answers 401 to two record-info calls while the task generates (a key rotated, a blip): the paid task
    finishes all the same, and is retrieved."""
    kie.configure(generation_seconds=1.0)
    kie.fault("error", endpoint="record-info", code=401, msg="You do not have access permissions", count=2)
    done = wait_final(http, http.post("/v1/generations", **photo_form()).json()["id"])
    assert done["status"] == "completed", done["history"]
    assert kie.calls("generate") == 1 and kie.calls("record-info") >= 3


def test_nul_and_control_characters_are_refused(http: httpx.Client) -> None:
    before = count(http)
    for answer in (
        http.post("/v1/generations", **photo_form(product_name="n\x00ul")),
        http.post("/v1/generations", json={"prompt": "a mug\x00", "provider": "local"}),
        http.post("/v1/generations", json={"product_name": "tab\there", "provider": "local"}),
        http.post(
            "/veo31/generate-with-prompt",
            files={"reference_image1": ("a.png", png_bytes(), "image/png")},
            data={"prompt": "a cube turning\x07 slowly"},
        ),
        http.get("/v1/generations/abc%00def"),
        http.get("/veo31/kie-status/abc%00def"),
        http.get("/v1/generations", params={"cursor": "a\x00b"}),
    ):
        assert answer.status_code == 422, answer.text
        assert "control character" in answer.json()["detail"]
    assert count(http) == before
    # Line breaks and tabs in a prompt are fine.
    fine = http.post("/v1/generations", **photo_form(prompt="line one\r\n\tline two", provider="local"))
    assert fine.status_code == 201, fine.text
    assert http.post(f"/v1/generations/{fine.json()['id']}/cancel").status_code == 200


def test_a_workflow_that_dies_fails_its_generation(http: httpx.Client, served: ServeProcess) -> None:
    """A generation whose stored reference-video notes no longer read (as an older or broken version might leave
    them): its workflow dies in its first step, and the generation is failed at once, pointing at the log — not
    left preparing until a sweep notices."""
    data_dir = served.env["VEO31_DATA_DIR"]
    engine = create_db_engine(database_for(data_dir) or f"sqlite:///{data_dir}/veo31.db")
    generation_id = secrets.token_hex(16)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(GenerationRow.__table__),
            dict(
                id=generation_id,
                status="queued",
                spec={"use_case": "product_video"},
                reference_video={"notes": "not notes at all"},
                provider="local",
                mode="text",
                warnings=[],
                callback_token=generation_id,
                fetch_attempts=0,
                created_at=utcnow() - timedelta(minutes=2),  # left by an earlier run: the sweeper's to start
                updated_at=utcnow(),
            ),
        )
    engine.dispose()
    done = wait_final(http, generation_id, timeout=30)
    assert done["status"] == "failed" and done["error"]["kind"] == "internal", done
    assert f"generation {generation_id}" in done["error"]["message"]
    assert generation_id in served.log() and "unexpected error" in served.log()


# -- memory, logs and parsing --------------------------------------------------------------------------------------


def test_a_huge_callback_body_is_never_read(http: httpx.Client, served: ServeProcess) -> None:
    before = rss_mb(served)

    def body() -> Iterator[bytes]:
        chunk = b'{"pad": "' + b"x" * (1024 * 1024 - 10)
        for _ in range(300):
            yield chunk

    try:
        answer = http.post(
            "/v1/callbacks/kie/not-a-token", content=body(), headers={"content-type": "application/json"}
        )
        assert answer.status_code == 404
    except httpx.TransportError:
        pass  # the server answered 404 and closed the connection while the body was still coming
    assert rss_mb(served) - before <= 50
    assert http.get("/healthz").status_code == 200


def test_callback_bodies_are_capped_and_parsed_safely(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    kie.configure(generation_seconds=30)
    generation = http.post("/v1/generations", **photo_form()).json()
    deadline = time.monotonic() + 30
    while not kie.state()["tasks"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    callback = kie.state()["tasks"][0]["callBackUrl"]
    path = httpx.URL(callback).path
    big = http.post(path, content=b"[" * 70_000, headers={"content-type": "application/json"})
    assert big.status_code == 413 and "64 KB" in big.json()["detail"]
    nested = http.post(path, content=b"[" * 60_000, headers={"content-type": "application/json"})
    assert nested.status_code == 422 and "JSON" in nested.json()["detail"]
    assert http.post(f"/v1/generations/{generation['id']}/cancel").status_code == 200


def test_json_bodies_are_capped(http: httpx.Client) -> None:
    answer = http.post("/v1/generations", json={"image_urls": ["http://a.example/" + "x" * 3_000_000]})
    assert answer.status_code == 413 and "1024 KB" in answer.json()["detail"]


def test_a_client_leaving_mid_body_costs_one_log_line(http: httpx.Client, served: ServeProcess) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    unexpected = served.log().count("unexpected error on")
    for path in ("/v1/generations", "/v1/callbacks/kie/x"):
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                'Content-Length: 100000\r\n\r\n{"prompt": '.encode()
            )
    time.sleep(1)
    assert served.log().count("unexpected error on") == unexpected
    assert served.log().count("client left before sending the whole body") >= 1
    assert http.get("/healthz").status_code == 200


def test_made_up_methods_do_not_grow_the_metrics(http: httpx.Client) -> None:
    http.get("/healthz")
    before = len(http.get("/metrics").text)
    for number in range(300):
        assert http.request(f"M{number}", f"/nowhere/{number}").status_code == 400  # refused by the HTTP parser
    for method in ("PROPFIND", "MKCOL", "PURGE", "REPORT", "SEARCH"):  # methods HTTP knows and veo31 serves none of
        assert http.request(method, f"/nowhere/{method}").status_code in (404, 405)
    after = http.get("/metrics").text
    assert len(after) - before < 10_000
    assert 'method="other"' in after and 'route="unmatched"' in after


@pytest.mark.parametrize(
    "url",
    [
        "http://0177.0.0.1/x.png",
        "http://[::1",
        "http://xn--/",
        "http://[2002:7f00:1::1]/x.png",
        "http://[2002:a9fe:a9fe::1]/latest/meta-data",
        "http://[fec0::1]/x.png",
        "http://192.88.99.1/x.png",
        "http://[64:ff9b::7f00:1]/x.png",
        "http://a.example/" + "x" * 2000,
    ],
)
def test_unsafe_image_urls_are_refused(http: httpx.Client, url: str) -> None:
    answer = http.post("/v1/generations", json={"image_urls": [url]})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "unsafe_url"


def test_a_loopback_refusal_names_the_setting(http: httpx.Client, image_host: str) -> None:
    ipv6_loopback = image_host.replace("127.0.0.1", "[::1]") + "/ok.png"  # loopback, outside 127.0.0.1/32
    answer = http.post("/v1/generations", json={"image_urls": [ipv6_loopback]})
    assert answer.status_code == 422 and "VEO31_ALLOWED_PRIVATE_NETWORKS" in answer.json()["detail"]
    answer = http.post("/v1/analyses", json={"image_urls": ["http://127.0.0.2:9/ok.png"]})
    assert answer.status_code == 422 and "VEO31_ALLOW_PRIVATE_URLS" in answer.json()["detail"]


def test_credentials_in_an_image_url_are_never_kept(http: httpx.Client, image_host: str) -> None:
    url = image_host.replace("http://", "http://someone:hunter22secret@") + "/ok.png"
    created = http.post("/v1/generations", json={"image_urls": [url], "provider": "local"})
    assert created.status_code == 201, created.text
    assert "hunter22secret" not in created.text and "someone" not in created.text
    assert created.json()["references"][0]["source_url"] == image_host + "/ok.png"


def test_kie_status_asks_kie_only_for_task_ids(http: httpx.Client, kie: KieEmulatorHandle) -> None:
    for task_id in ("x", "a b", "x" * 5000, "..%2F..", "<script>", "a;b"):
        assert http.get(f"/veo31/kie-status/{task_id}").status_code in (404, 422)
    assert kie.calls("record-info") == 0
    for _ in range(5):
        assert http.get("/veo31/kie-status/veo_task_never_made").status_code == 404
    assert kie.calls("record-info") == 1, "a miss is remembered"


def test_huge_photos_are_decoded_at_a_bounded_size(http: httpx.Client, served: ServeProcess) -> None:
    """Peak memory stays flat whatever a photo's pixel count: three 40-megapixel photos cost about what three
    10-megapixel ones do (measured one after the other on one server; without the bounded decode, +1.4 GB)."""

    def photos(width: int, height: int) -> list[tuple[str, tuple[str, bytes, str]]]:
        made = []
        for shade in (60, 120, 180):
            image = Image.new("RGB", (width, height), (250, 250, 250))
            ImageDraw.Draw(image).ellipse(
                (width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(shade, 40, 40)
            )
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=85)
            made.append(("images", (f"{shade}.jpg", buffer.getvalue(), "image/jpeg")))
        return made

    ten, forty = photos(3650, 2735), photos(7300, 5470)
    assert http.post("/v1/analyses", files=ten).status_code == 200  # libraries loaded, 10-megapixel peak reached
    assert http.post("/v1/analyses", files=ten).status_code == 200
    peak_before = rss_mb(served, "VmHWM")
    answer = http.post("/v1/analyses", files=forty)
    assert answer.status_code == 200, answer.text
    grew = rss_mb(served, "VmHWM") - peak_before
    # Decoded at a bounded size, both sets decode to the same pixels; what is left is the allocator's noise (a
    # request may land on a worker thread with a fresh arena: 0–140 MB here). Without the bound: over 1,100 MB.
    assert grew <= 300, f"three 40-megapixel photos took the peak {grew:.0f} MB past three 10-megapixel ones"
