"""Versions for channels on the page: a finished video, two channels ticked, made — each listed with a preview that
shows (the square one plays, the animated WebP loads) and its download, and everything in one ZIP; a brand kit made
and edited in the page's own form."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Console, Site, new_context, screenshot
from tests.e2e.helpers import WAIT_MS, assert_plays, create_via_api, open_generation, statuses_until
from tests.unit.test_branding import tone_file


def test_versions_for_channels_are_made_and_downloaded_from_the_page(page: Page, site: Site) -> None:
    kit = site.http.post(f"{site.url}/v1/brand-kits", data={"name": "Bottle Co", "cta": "Shop now"})
    assert kit.status_code == 201, kit.text
    generation_id = create_via_api(site, product_name="Channel Bottle")
    open_generation(page, generation_id)
    assert statuses_until(page, {"completed", "failed", "needs_review"})[-1] == "completed"
    expect(page.locator("#channels")).to_be_visible()
    page.get_by_label("Square (1:1) · 1080×1080").check()
    page.get_by_label("Preview (animated WebP) · 480×480").check()
    page.get_by_role("button", name="Make these versions").click()

    square = page.locator("#deliverables li[data-preset='square']")
    preview = page.locator("#deliverables li[data-preset='preview']")
    # A wait bound, not a speed check (bench/ measures speed): two renders share the machine with the server.
    expect(square).to_have_attribute("data-status", "completed", timeout=3 * WAIT_MS)
    expect(preview).to_have_attribute("data-status", "completed", timeout=3 * WAIT_MS)
    assert_plays(square.locator("video"))
    image = preview.locator("img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth === 480"), "the animated WebP shows"
    expect(square.get_by_role("link", name="Download")).to_have_attribute(
        "download", re.compile(r"^channel-bottle-.*-square\.mp4$")
    )
    expect(page.get_by_label("Square (1:1) · 1080×1080")).to_be_disabled()  # made: not asked for twice
    screenshot(page, "desktop-channels")

    # The same channel again, with a brand kit and a price: a version of its own, beside the plain one.
    page.get_by_label("Brand kit").select_option(label="Bottle Co (version 1)")
    expect(page.get_by_label("Square (1:1) · 1080×1080")).to_be_enabled()
    page.get_by_label("Square (1:1) · 1080×1080").check()
    page.get_by_label("Price on the video").fill("€12")
    page.get_by_role("button", name="Make these versions").click()
    squares = page.locator("#deliverables li[data-preset='square']")
    expect(squares).to_have_count(2, timeout=WAIT_MS)
    expect(squares.nth(1)).to_have_attribute("data-status", "completed", timeout=3 * WAIT_MS)
    expect(squares.nth(1)).to_contain_text("Bottle Co v1, €12")
    assert_plays(squares.nth(1).locator("video"))

    zip_link = page.get_by_role("link", name="Download all (ZIP)")
    expect(zip_link).to_be_visible()
    archive = site.http.get(zip_link.evaluate("a => a.href"))
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        names = sorted(zipped.namelist())
    day = site.generation(generation_id)["created_at"][:10]
    assert names == [
        f"channel-bottle-{day}-preview.webp",
        f"channel-bottle-{day}-square-bottle-co-v1-12.mp4",
        f"channel-bottle-{day}-square.mp4",
    ], "each version its own name: the preset, and the kit, its version and the price"


def test_a_brand_kit_is_made_and_edited_on_the_page(browser: Browser, site: Site, tmp_path: Path) -> None:
    console = Console()
    context = new_context(browser, site, console, viewport={"width": 1280, "height": 900})
    try:
        kit_form_round_trip(context.new_page(), site, tmp_path)
    finally:
        context.close()
    assert all("422" in error and "/v1/brand-kits" in error for error in console.errors), "only the refused music"


def kit_form_round_trip(page: Page, site: Site, tmp_path: Path) -> None:
    generation_id = create_via_api(site, product_name="Kit Bottle")
    open_generation(page, generation_id)
    statuses_until(page, {"completed", "failed", "needs_review"})
    expect(page.locator("#channels")).to_be_visible()
    page.get_by_text("New brand kit").click()
    page.get_by_label("Kit name").fill("Page Co")
    page.get_by_label("Call to action").fill("Shop now")
    page.get_by_label("Card colour").fill("#f5f5f5")
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (200, 80), (230, 20, 200, 255)).save(logo)
    page.get_by_label("Logo file").set_input_files(str(logo))
    not_sound = tmp_path / "jingle.mp3"
    not_sound.write_bytes(b"no sound in here")
    page.get_by_label("Music file").set_input_files(str(not_sound))
    page.get_by_role("button", name="Save the brand kit").click()
    expect(page.locator("#kit-status")).to_contain_text("music file cannot be read")
    page.locator("#kit-form").scroll_into_view_if_needed()
    screenshot(page, "desktop-brand-kit", full_page=False)

    music = tone_file(tmp_path / "jingle.m4a", 1.0, 660, 0.3)
    page.get_by_label("Music file").set_input_files(str(music))
    page.get_by_role("button", name="Save the brand kit").click()
    expect(page.get_by_label("Brand kit")).to_have_value(re.compile(r"^[0-9a-f]{32}$"), timeout=WAIT_MS)
    [kit] = [item for item in site.http.get(f"{site.url}/v1/brand-kits").json()["items"] if item["name"] == "Page Co"]
    assert kit["background"] == "#f5f5f5" and kit["cta"] == "Shop now" and kit["logo_url"] and kit["music_url"]

    page.get_by_text("Edit Page Co").click()
    expect(page.get_by_label("Call to action")).to_have_value("Shop now")
    page.get_by_label("Call to action").fill("Buy today")
    page.get_by_label("Take its music away").check()
    page.get_by_role("button", name="Save the brand kit").click()
    expect(page.get_by_label("Brand kit").locator("option:checked")).to_have_text("Page Co (version 2)")
    edited = site.http.get(f"{site.url}/v1/brand-kits/{kit['id']}").json()
    assert edited["cta"] == "Buy today" and edited["music_url"] is None and edited["logo_url"], "the logo is kept"
