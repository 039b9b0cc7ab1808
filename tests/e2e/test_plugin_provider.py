"""The page offers a provider declared in one file under tests/ (the slideshow plugin) like a built-in one: its
name in the choices, its durations in the form, its price in the estimate, and its video played at the end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site, desk_page, served
from tests.e2e.helpers import WAIT_MS, WHITE, assert_plays, statuses_until
from tests.slideshow_provider import PLUGIN

ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served(tmp_path_factory, {"VEO31_PROVIDER_PLUGINS": PLUGIN, "PYTHONPATH": ROOT}) as running:
        yield running


def test_the_page_offers_and_uses_a_plugin_provider(browser: Browser, plugin_site: Site) -> None:
    with desk_page(browser, plugin_site) as page:
        page.goto("/veo31")
        expect(page.locator("#provider option[value=slideshow]")).to_have_text("Test slideshow")
        page.set_input_files("#file-input", [WHITE])
        page.get_by_label("Provider").select_option("slideshow")
        expect(page.locator("#duration option")).to_have_count(2)  # 4 and 8 s, from its capabilities
        page.get_by_label("Duration").select_option("4")
        expect(page.locator("#estimate")).to_contain_text("Test slideshow")
        page.get_by_role("button", name="Generate video").click()
        expect(page).to_have_url(re.compile(r"#g=[0-9a-f]{32}$"), timeout=WAIT_MS)
        generation_id = page.url.rsplit("=", 1)[1]
        assert statuses_until(page, {"completed", "failed"})[-1] == "completed"
        assert_plays(page.locator("#renditions video").first)
        assert plugin_site.generation(generation_id)["provider"] == "slideshow"
