"""What a newcomer meets on the page, on a server of their own (`veo31 serve --emulate`, nothing made yet): one
press generates, the prompt section says what the chosen provider does with it, a file that is no photo is
refused when picked, the gallery follows live and says what a filter hid, the copy link says where it opens,
and a wide screen uses its width."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import png_bytes
from tests.e2e.conftest import Console, Site, desk_page, new_context, screenshot, served
from tests.e2e.helpers import WAIT_MS, WHITE, assert_plays, create_via_api, statuses_until


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served(tmp_path_factory) as site:
        yield site


@pytest.fixture
def desk(browser: Browser, fresh: Site) -> Iterator[Page]:
    with desk_page(browser, fresh) as page:
        yield page


def test_an_empty_gallery_sits_beside_the_form_and_says_what_a_filter_hid(desk: Page) -> None:
    desk.goto("/")
    expect(desk.locator("#gallery-empty")).to_have_text("No videos yet.")
    form, gallery = desk.locator("#create").bounding_box(), desk.locator("#gallery").bounding_box()
    assert form and gallery
    assert gallery["x"] >= form["x"] + form["width"], "the gallery uses the right half at 1280 px"
    assert abs(gallery["y"] - form["y"]) < 5, "beside the form, not below it"
    screenshot(desk, "first-hour-desktop-empty", full_page=False)
    desk.get_by_label("Show").select_option("failed")
    expect(desk.locator("#gallery-empty")).to_have_text("No failed videos.")


def test_one_press_generates_and_the_page_wrote_the_prompt(desk: Page, fresh: Site) -> None:
    desk.goto("/")
    expect(desk.locator("#prompt-legend")).to_have_text("3 · The prompt Veo will get through Kie.ai (optional)")
    expect(desk.locator("#provider-note")).to_contain_text("Kie.ai makes 8 s videos")
    desk.set_input_files("#file-input", [WHITE])
    desk.get_by_label("Product name").fill("First Mug")
    desk.get_by_role("button", name="Generate video").click()
    expect(desk).to_have_url(re.compile(r"#g=[0-9a-f]{32}$"), timeout=WAIT_MS)
    expect(desk.locator("#form-error")).to_have_text("")
    generation_id = desk.url.rsplit("=", 1)[1]
    # The gallery card follows the live status, as the panel does.
    card = desk.locator(f"#gallery-list li[data-id='{generation_id}'] .badge")
    seen = set()
    deadline = time.monotonic() + 45
    while desk.locator("#watch").get_attribute("data-status") != "completed":
        assert time.monotonic() < deadline
        panel = desk.locator("#watch").get_attribute("data-status")
        if panel in ("generating", "retrieving") and card.count():
            seen.add(card.text_content())
        desk.wait_for_timeout(50)
    expect(card).to_have_text("ready")
    assert seen & {"generating", "retrieving", "submitted"}, f"the card stood still: {seen}"
    generation = fresh.generation(generation_id)
    assert generation["prompt"] and generation["prompt_writer"] == "template"
    desk.locator("#details summary").click()
    expect(desk.locator("#details-list")).to_contain_text("veo31 (template)")
    expect(desk.locator("#details-list")).not_to_contain_text("user")
    # The link on this machine says so, and how to make links others can open.
    expect(desk.locator(".share-note").first).to_be_visible()
    expect(desk.locator(".share-note").first).to_contain_text("VEO31_PUBLIC_URL")
    screenshot(desk, "first-hour-desktop-finished")


def test_a_reviewed_but_unchanged_prompt_is_still_veo31s(desk: Page, fresh: Site) -> None:
    desk.goto("/")
    desk.set_input_files("#file-input", [WHITE])
    desk.get_by_role("button", name="Analyse photos & write the prompt").click()
    expect(desk.locator("#prompt")).not_to_have_value("", timeout=WAIT_MS)
    written = desk.locator("#prompt").input_value()
    desk.get_by_role("button", name="Generate video").click()
    expect(desk).to_have_url(re.compile(r"#g=[0-9a-f]{32}$"), timeout=WAIT_MS)
    assert statuses_until(desk, {"completed", "failed"})[-1] == "completed"
    generation = fresh.generation(desk.url.rsplit("=", 1)[1])
    assert generation["prompt"] == written and generation["prompt_writer"] != "user"


def test_the_local_renderer_says_it_does_not_use_the_prompt(desk: Page) -> None:
    desk.goto("/")
    desk.set_input_files("#file-input", [WHITE])
    desk.get_by_label("Provider").select_option("local")
    expect(desk.locator("#prompt-legend")).to_have_text("3 · The prompt (the local renderer does not use it)")
    expect(desk.locator("#prompt-note")).to_contain_text("animates your photos")
    expect(desk.locator("#provider-note")).to_contain_text("Local renderer makes 2–30 s videos")
    expect(desk.get_by_label("Duration")).to_have_value("8")
    screenshot(desk, "first-hour-desktop-local", full_page=False)


def test_a_file_that_is_not_a_photo_is_refused_when_picked(desk: Page, tmp_path: Path) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("these are notes, not a photo")
    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(png_bytes(40, 40))
    desk.goto("/")
    desk.set_input_files("#file-input", [fake, tiny])
    expect(desk.locator("#form-error")).to_contain_text("holiday.jpg is not a readable JPEG, PNG or WebP image")
    expect(desk.locator("#form-error")).to_contain_text("tiny.png is 40×40; at least 64 px a side is needed")
    expect(desk.locator("#previews img")).to_have_count(0)


def test_on_a_phone_the_drop_zone_says_tap(browser: Browser, fresh: Site) -> None:
    console = Console()
    context = new_context(
        browser, fresh, console, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("#drop-words")).to_have_text("Tap here to choose product photos")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "first-hour-phone-form", full_page=False)
        generation_id = create_via_api(fresh, product_name="Phone Mug")
        page.goto(f"/#g={generation_id}")
        statuses_until(page, {"completed"})
        assert_plays(page.locator("#renditions video").first)
        screenshot(page, "first-hour-phone-finished", full_page=False)
    finally:
        context.close()
    assert console.errors == []
