"""What the page tests share: the fixture photos, how long a page may wait, and the checks a person makes with their
eyes — the statuses it showed, a video that plays."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Site

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WHITE = FIXTURES / "product-on-white.jpg"
SCENE = FIXTURES / "product-in-scene.jpg"
STEPS = ["queued", "preparing", "submitted", "generating", "retrieving", "checking", "completed"]
WAIT_MS = 45_000


def create_via_api(site: Site, **fields: Any) -> str:
    response = site.http.post(
        f"{site.url}/v1/generations",
        files=[("images", (WHITE.name, WHITE.read_bytes(), "image/jpeg"))],
        data={key: str(value) for key, value in fields.items()},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def watched_status(page: Page) -> str | None:
    return page.locator("#watch").get_attribute("data-status")


def statuses_until(page: Page, final: set[str], timeout: float = 45) -> list[str]:
    """Every status the page showed, in order, until one of `final`."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = watched_status(page)
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        if status in final:
            return seen
        page.wait_for_timeout(40)
    raise AssertionError(f"the page never reached {final}; it showed {seen}")


def assert_plays(video: Locator) -> None:
    """The browser decoded the video and time advances while it plays."""
    expect(video).to_be_visible()
    video.evaluate("v => { v.muted = true; return v.play(); }")
    deadline = time.monotonic() + 20
    while video.evaluate("v => v.readyState") < 2:
        assert time.monotonic() < deadline, "the video never became playable"
        time.sleep(0.05)
    start = video.evaluate("v => v.currentTime")
    time.sleep(0.8)
    assert video.evaluate("v => v.currentTime") > start, "the video does not advance"
    assert video.evaluate("v => v.error") is None


def open_generation(page: Page, generation_id: str) -> None:
    page.goto(f"/veo31#g={generation_id}")
    expect(page.locator("#watch")).to_be_visible()
