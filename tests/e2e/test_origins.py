"""Pages of other origins in Chromium: a drive-by page cannot make a paid generation; a listed origin, and the old
system's page opened from disk (origin "null"), work end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.conftest import png_bytes
from tests.e2e.conftest import Site, desk_page, screenshot, served
from tests.e2e.helpers import assert_plays
from veo31.emulators.serve import ServerThread

OLD_PAGE = Path(__file__).parent / "pages" / "old_page.html"

# A page of another site: it posts a photo to the veo31 server the way any web page can without asking first
# (multipart, no preflight); `mode` is "no-cors" for a drive-by, "cors" for a page that wants the answer.
FOREIGN_PAGE = """<!doctype html><html><body><p id="result">…</p><script>
async function post(base, mode) {
  const canvas = document.createElement("canvas"); canvas.width = 320; canvas.height = 240;
  const draw = canvas.getContext("2d"); draw.fillStyle = "#c82828"; draw.fillRect(80, 60, 160, 120);
  const photo = await new Promise(resolve => canvas.toBlob(resolve, "image/png"));
  const form = new FormData(); form.append("images", photo, "p.png"); form.append("product_name", "Stolen mug");
  try {
    const response = await fetch(base + "/v1/generations", {method: "POST", body: form, mode});
    document.getElementById("result").textContent = mode === "cors" ? String(response.status) : "sent";
  } catch (error) { document.getElementById("result").textContent = "blocked: " + error; }
}
</script></body></html>"""


def page_server() -> ServerThread:
    routes = [
        Route("/", lambda r: HTMLResponse(FOREIGN_PAGE)),
        Route("/photo.png", lambda r: Response(png_bytes(colour=(30, 90, 200)), media_type="image/png")),
    ]
    return ServerThread(Starlette(routes=routes))


@pytest.fixture(scope="module")
def pages() -> Iterator[tuple[str, str]]:
    """Two other sites: one nobody listed, one listed in VEO31_CORS_ORIGINS."""
    with page_server() as stranger, page_server() as listed:
        yield stranger.url, listed.url


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, pages: tuple[str, str]) -> Iterator[Site]:
    env = {"VEO31_CORS_ORIGINS": f"null,{pages[1]}", "VEO31_ALLOW_PRIVATE_URLS": "true"}
    with served(tmp_path_factory, env) as site:
        yield site


@pytest.fixture
def browsing(browser: Browser, guarded: Site) -> Iterator[Page]:
    with desk_page(browser, guarded, quiet_console=False) as page:  # the drive-by's refusals are logged, rightly
        yield page


def generations(site: Site) -> list[dict]:
    return site.http.get(f"{site.url}/v1/generations", params={"limit": 100}).json()["items"]


def generate_calls(site: Site) -> int:
    return int(site.emulator_state()["calls"].get("generate", 0))


def test_a_drive_by_page_cannot_generate(browsing: Page, guarded: Site, pages: tuple[str, str]) -> None:
    before, calls = len(generations(guarded)), generate_calls(guarded)
    browsing.goto(pages[0])
    browsing.evaluate(f"post({guarded.url!r}, 'no-cors')")
    browsing.wait_for_function("document.getElementById('result').textContent !== '…'")
    time.sleep(1.5)  # a generation, had one been made, would be queued and submitted by now
    assert len(generations(guarded)) == before and generate_calls(guarded) == calls
    # The same page, asking for the answer, is blocked by CORS and refused by the server alike.
    browsing.evaluate(f"post({guarded.url!r}, 'cors')")
    browsing.wait_for_function("document.getElementById('result').textContent.startsWith('blocked')")
    assert len(generations(guarded)) == before and generate_calls(guarded) == calls


def test_a_listed_origin_may_generate(browsing: Page, guarded: Site, pages: tuple[str, str]) -> None:
    before = len(generations(guarded))
    browsing.goto(pages[1])
    browsing.evaluate(f"post({guarded.url!r}, 'cors')")
    browsing.wait_for_function("document.getElementById('result').textContent === '201'")
    made = generations(guarded)
    assert len(made) == before + 1
    deadline = time.monotonic() + 60  # finished before the next test counts the emulator's generate calls
    while guarded.generation(made[0]["id"])["status"] not in ("completed", "failed", "canceled"):
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_the_old_page_from_disk_works_end_to_end(
    browsing: Page, guarded: Site, pages: tuple[str, str], tmp_path: Path
) -> None:
    opened = tmp_path / "veo31_interface.html"
    opened.write_text(OLD_PAGE.read_text().replace("__BASE__", guarded.url))
    calls = generate_calls(guarded)
    browsing.goto(opened.as_uri())
    status, prompt = browsing.locator("#status"), browsing.locator("#prompt")
    assert browsing.locator("#server").text_content(timeout=10_000) != "Server not running"
    browsing.wait_for_function("document.getElementById('server').textContent === 'server running'")

    # Upload tab: analyse → edit → generate → poll kie-status → play.
    browsing.click("#analyse-upload")
    browsing.wait_for_function("document.getElementById('status').textContent === 'analysis done'")
    written = prompt.input_value()
    assert written and "[object Object]" not in written
    edited = written + " Rain runs down the window behind it."
    prompt.fill(edited)
    browsing.click("#next")
    browsing.wait_for_function("document.getElementById('status').textContent === 'video ready'", timeout=60_000)
    assert_plays(browsing.locator("#player"))
    screenshot(browsing, "old-page-from-disk")
    tasks = guarded.emulator_state()["tasks"]
    assert generate_calls(guarded) == calls + 1, "one generate call for one video"
    assert tasks[-1]["params"]["prompt"] == edited, "the edited prompt reached the provider verbatim"

    # URL tab: generate-from-urls only analyses; the edited prompt goes to generate-with-prompt-urls.
    browsing.fill("#urls", f"{pages[0]}/photo.png")
    browsing.click("#analyse-urls")
    browsing.wait_for_function("document.getElementById('status').textContent === 'analysis done'")
    assert generate_calls(guarded) == calls + 1, "analysing by URL started no video"
    edited = prompt.input_value() + " Slow dolly in."
    prompt.fill(edited)
    browsing.click("#next")
    browsing.wait_for_function("document.getElementById('status').textContent === 'video ready'", timeout=60_000)
    assert_plays(browsing.locator("#player"))
    assert generate_calls(guarded) == calls + 2
    assert guarded.emulator_state()["tasks"][-1]["params"]["prompt"] == edited
    assert status.text_content() == "video ready"
