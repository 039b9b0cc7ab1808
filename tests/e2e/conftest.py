"""The page in a real browser: Debian's Chromium driven by Playwright, against a real `veo31 serve --emulate`.

Playwright cannot download its own browser here; it is pointed at /usr/bin/chromium (scripts/test.sh installs the
`chromium` package). Each test gets a fresh browser context, and fails if the page logged any console error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

from tests.conftest import ServeProcess
from tests.integration.conftest import free_port

CHROMIUM = os.environ.get("VEO31_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("VEO31_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
# The flags a root, offline, headless machine needs (no sandbox as root; no calls home to Google's hosts).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
GENERATION_SECONDS = 2.0


@dataclass
class Site:
    """The server under test and the emulator behind it."""

    url: str
    emulator: str
    data_dir: Path
    http: httpx.Client = field(repr=False)

    def generation(self, generation_id: str) -> dict[str, Any]:
        response = self.http.get(f"{self.url}/v1/generations/{generation_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def emulator_config(self, **changes: Any) -> None:
        assert self.http.post(f"{self.emulator}/_emulator/config", json=changes).status_code == 200

    def credits(self, amount: float) -> None:
        assert self.http.post(f"{self.emulator}/_emulator/credits", json={"credits": amount}).status_code == 200

    def emulator_state(self) -> dict[str, Any]:
        return self.http.get(f"{self.emulator}/_emulator/state").json()


def serve(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None) -> tuple[ServeProcess, Site]:
    data_dir = tmp_path_factory.mktemp("veo31-page")
    port, emulator_port = free_port(), free_port()
    server = ServeProcess(
        {
            "VEO31_FIRST_POLL_SECONDS": "1",
            "VEO31_MAX_POLL_SECONDS": "2",
            "VEO31_WAKE_INTERVAL_SECONDS": "0.05",
            "VEO31_QUEUE_POLL_SECONDS": "0.2",
            **(env or {}),
        },
        port,
        str(data_dir),
        args=("--emulate", "--emulator-port", str(emulator_port), "--generation-seconds", str(GENERATION_SECONDS)),
    )
    server.start()
    return server, Site(server.url, f"http://127.0.0.1:{emulator_port}", data_dir, httpx.Client(timeout=30))


@contextlib.contextmanager
def served(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None) -> Iterator[Site]:
    """A `veo31 serve --emulate` of its own for as long as the block runs."""
    server, running = serve(tmp_path_factory, env)
    try:
        yield running
    finally:
        server.stop()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served(tmp_path_factory) as running:
        yield running


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test.sh does)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


class Console:
    """Every console error and uncaught exception of the pages in one context."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} at {message.location}")


@pytest.fixture
def console() -> Console:
    return Console()


def new_context(browser: Browser, site: Site, console: Console, **options: Any) -> BrowserContext:
    context = browser.new_context(
        base_url=site.url, accept_downloads=True, permissions=["clipboard-read", "clipboard-write"], **options
    )
    context.on("page", console.watch)
    return context


@contextlib.contextmanager
def desk_page(browser: Browser, site: Site, *, quiet_console: bool = True) -> Iterator[Page]:
    """A page at desktop width (1280 × 900) in a context of its own; with `quiet_console`, it must log no error."""
    console = Console()
    context = new_context(browser, site, console, viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()
    if quiet_console:
        assert console.errors == [], "the page logged errors"


@pytest.fixture
def context(browser: Browser, site: Site, console: Console) -> Iterator[BrowserContext]:
    made = new_context(browser, site, console, viewport={"width": 1280, "height": 900})
    yield made
    made.close()
    assert console.errors == [], "the page logged errors"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
