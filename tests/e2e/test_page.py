"""The page, used as a person uses it: pick photos, read and edit the prompt, generate, watch, play, download,
copy the link, upgrade, reload, retry, cancel — in Chromium, against `veo31 serve --emulate`."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Console, Site, new_context, screenshot, serve
from tests.e2e.helpers import (
    SCENE,
    STEPS,
    WAIT_MS,
    WHITE,
    assert_plays,
    create_via_api,
    open_generation,
    statuses_until,
    watched_status,
)
from veo31.media.intake import normalise_image
from veo31.media.probe import probe_video


def test_pick_photos_edit_prompt_generate_watch_and_play(page: Page, site: Site, tmp_path: Path) -> None:
    page.goto("/veo31")
    expect(page.locator("#provider")).to_have_value("auto")
    expect(page.locator("#provider option[value=kie]")).to_have_text("Kie.ai")
    expect(page.locator("#duration option")).to_have_text(["8 s"]), "durations come from Kie's capabilities"
    page.set_input_files("#file-input", [WHITE, SCENE])
    expect(page.locator("#previews img")).to_have_count(2)
    page.get_by_role("button", name="Move photo 2 earlier").click()
    expect(page.locator("#previews img").first).to_have_attribute("alt", re.compile(SCENE.name))
    page.get_by_label("Product name").fill("Red Cube")
    # The cost is shown where the person decides, from the server's prices.
    expect(page.locator("#estimate")).to_have_text("Estimated cost with Kie.ai: $0.84 (168 Kie.ai credits × $0.005)")
    page.get_by_label("Resolution").select_option("1080p")
    expect(page.locator("#estimate")).to_contain_text("(173 Kie.ai credits × $0.005)")  # the 1080p step costs more
    page.get_by_label("Resolution").select_option("720p")
    page.get_by_role("button", name="Analyse photos & write the prompt").click()
    expect(page.locator("#prompt")).not_to_have_value("", timeout=WAIT_MS)
    expect(page.locator("#analysis-summary")).to_contain_text("Red Cube")
    prompt = page.locator("#prompt").input_value() + " End on a slow zoom to the label."
    page.locator("#prompt").fill(prompt)
    page.get_by_role("button", name="Generate video").click()

    expect(page).to_have_url(re.compile(r"#g=[0-9a-f]{32}$"), timeout=WAIT_MS)
    generation_id = page.url.rsplit("=", 1)[1]
    seen = statuses_until(page, {"completed", "failed"})
    assert seen[-1] == "completed", seen
    assert [step for step in STEPS if step in seen] == seen, f"the timeline went backwards: {seen}"
    assert len(seen) >= 3, f"the timeline should advance through the steps, saw only {seen}"
    expect(page.locator("#timeline li.done")).to_have_count(6)
    expect(page.locator("#status-text")).to_have_text("Ready")
    assert_plays(page.locator("#renditions video").first)

    generation = site.generation(generation_id)
    assert generation["prompt"] == prompt, "the edited prompt is the one sent"
    task = next(t for t in site.emulator_state()["tasks"] if t["taskId"] == generation["provider_task_id"])
    assert task["params"]["prompt"].startswith(prompt)
    first = generation["references"][0]
    assert first["sha256"] != generation["references"][1]["sha256"]
    assert first["sha256"] == normalised_sha(SCENE), "the photo moved to the front is sent first"
    screenshot(page, "desktop-finished")


def test_photos_picked_before_the_capabilities_arrive_are_kept(page: Page, site: Site) -> None:
    """A quick hand (or a slow server): the photo is chosen while /v1/providers is still on its way. It waits for
    the limits instead of failing in the console, and shows once they arrive."""
    held: list[Any] = []
    page.route("**/v1/providers", lambda route: held.append(route))
    page.goto("/veo31")
    page.set_input_files("#file-input", [WHITE])
    deadline = time.monotonic() + 10
    while not held:
        assert time.monotonic() < deadline, "the page never asked for the providers"
        page.wait_for_timeout(50)
    expect(page.locator("#previews img")).to_have_count(0)
    held[0].continue_()
    expect(page.locator("#previews img")).to_have_count(1)
    expect(page.locator("#provider")).to_have_value("auto")


def normalised_sha(path: Path) -> str:
    """The content hash the server gives a photo after intake (it strips metadata, so not the file's own hash)."""
    return normalise_image(path.read_bytes()).sha256


def test_the_local_renderer_from_the_page(page: Page, site: Site) -> None:
    page.goto("/veo31")
    page.set_input_files("#file-input", [WHITE])
    page.get_by_label("Provider").select_option("local")
    expect(page.locator("#duration option")).to_have_count(29)  # 2–30 s, from the local renderer's capabilities
    page.get_by_label("Duration").select_option("3")
    page.get_by_label("Frame rate").select_option("24")
    expect(page.locator("#estimate")).to_have_text("Estimated cost with Local renderer: free")
    page.get_by_label("Product name").fill("Local Lamp")
    page.get_by_role("button", name="Generate video").click()  # one press: the prompt is written on the way
    expect(page).to_have_url(re.compile(r"#g=[0-9a-f]{32}$"), timeout=WAIT_MS)
    generation_id = page.url.rsplit("=", 1)[1]
    assert statuses_until(page, {"completed", "failed"})[-1] == "completed"
    assert_plays(page.locator("#renditions video").first)
    generation = site.generation(generation_id)
    assert generation["provider"] == "local" and generation["video"]["fps"] == 24.0
    assert generation["video"]["duration"] == 3.0
    expect(page.get_by_role("button", name=re.compile("Make a .* version"))).to_have_count(0)


def test_copy_link_and_download(page: Page, site: Site, tmp_path: Path) -> None:
    generation_id = create_via_api(site, product_name="Blue Mug")
    open_generation(page, generation_id)
    statuses_until(page, {"completed"})
    generation = site.generation(generation_id)
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-status")).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == generation["video_url"]
    with page.expect_download() as info:
        page.get_by_role("link", name="Download").click()
    download = info.value
    today = datetime.fromisoformat(generation["created_at"]).astimezone(UTC).strftime("%Y-%m-%d")
    assert download.suggested_filename == f"blue-mug-{today}.mp4"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    info_ = probe_video(target)  # decodes every frame
    assert (info_.width, info_.height, info_.codec) == (1280, 720, "h264")
    new_tab = page.get_by_role("link", name="Open in new tab")
    assert new_tab.get_attribute("target") == "_blank"
    assert new_tab.get_attribute("href") == httpx.URL(generation["video_url"]).raw_path.decode()


def test_1080p_upgrade_shows_beside_the_original(page: Page, site: Site, tmp_path: Path) -> None:
    generation_id = create_via_api(site, product_name="Green Vase")
    open_generation(page, generation_id)
    statuses_until(page, {"completed"})
    upgrade = page.get_by_role("button", name=re.compile(r"Make a 1080p version \(about 5 Kie\.ai credits"))
    expect(page.get_by_role("button", name=re.compile("Make a 4K version"))).to_be_visible()
    upgrade.click()
    expect(page.locator("#renditions video")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#renditions .label").nth(1)).to_contain_text("1080p version · 1920×1080")
    assert_plays(page.locator("#renditions video").nth(1))
    assert_plays(page.locator("#renditions video").first)
    expect(page.get_by_role("button", name=re.compile("Make a 1080p version"))).to_have_count(0)
    rendition = site.generation(generation_id)["renditions"][0]
    assert rendition["status"] == "completed" and rendition["resolution"] == "1080p"
    target = tmp_path / "hd.mp4"
    target.write_bytes(site.http.get(rendition["download_url"]).content)
    hd = probe_video(target)
    assert (hd.width, hd.height) == (1920, 1080)
    assert site.generation(rendition["id"])["upgrade_of"] == generation_id
    screenshot(page, "desktop-upgraded")


def test_reload_mid_generation_and_watch_it_finish(page: Page, site: Site) -> None:
    site.emulator_config(generation_seconds=6)
    try:
        page.goto("/veo31")
        page.set_input_files("#file-input", [WHITE])
        page.get_by_label("Product name").fill("Reloaded Lamp")
        page.get_by_role("button", name="Generate video").click()  # one press: the prompt is written on the way
        expect(page.locator("#form-error")).to_have_text("")
        expect(page).to_have_url(re.compile(r"#g=[0-9a-f]{32}$"), timeout=WAIT_MS)
        generation_id = page.url.rsplit("=", 1)[1]
        statuses_until(page, {"generating"})
        page.reload()
        expect(page.locator("#watch-title")).to_have_text("Reloaded Lamp")
        assert watched_status(page) in ("generating", "retrieving", "completed")
        assert statuses_until(page, {"completed", "failed"})[-1] == "completed"
        assert_plays(page.locator("#renditions video").first)
        card = page.locator(f"#gallery-list li[data-id='{generation_id}']")
        expect(card).to_be_visible()
        expect(card.locator(".badge")).to_have_text("ready")
        expect(card.locator("img")).to_be_visible()
    finally:
        site.emulator_config(generation_seconds=2)


def test_a_failure_says_why_and_can_be_retried(page: Page, site: Site) -> None:
    site.credits(0)
    try:
        generation_id = create_via_api(site, product_name="Broke Bag")
        open_generation(page, generation_id)
        assert statuses_until(page, {"completed", "failed"})[-1] == "failed"
        expect(page.locator("#failure-advice")).to_have_text(
            "Kie.ai says this account has no credits left — top up, or choose another provider."
        )
        expect(page.locator("#failure-message")).to_contain_text("credits")
        expect(page.locator(f"#gallery-list li[data-id='{generation_id}'] .badge")).to_have_text("failed")
    finally:
        site.credits(10_000)
    page.get_by_role("button", name="Retry", exact=True).click()
    expect(page).not_to_have_url(re.compile(generation_id), timeout=WAIT_MS)
    retried_id = page.url.rsplit("=", 1)[1]
    expect(page.locator("#watch")).to_have_attribute("data-id", retried_id)
    assert statuses_until(page, {"completed", "failed"})[-1] == "completed"
    assert site.generation(retried_id)["parent_id"] == generation_id


def test_cancel_a_running_generation(page: Page, site: Site) -> None:
    site.emulator_config(generation_seconds=120)
    try:
        generation_id = create_via_api(site, product_name="Slow Chair")
        open_generation(page, generation_id)
        statuses_until(page, {"generating"})
        page.get_by_role("button", name="Cancel", exact=True).click()
        assert statuses_until(page, {"canceled"})[-1] == "canceled"
        expect(page.locator("#status-text")).to_have_text("Canceled")
        expect(page.get_by_role("button", name="Retry", exact=True)).to_be_visible()
        assert site.generation(generation_id)["status"] == "canceled"
        expect(page.locator(f"#gallery-list li[data-id='{generation_id}'] .badge")).to_have_text("canceled")
    finally:
        site.emulator_config(generation_seconds=2)


def test_gallery_filters_and_opens_a_generation(page: Page, site: Site) -> None:
    generation_id = create_via_api(site, product_name="Gallery Shoe")
    deadline = time.monotonic() + 45
    while site.generation(generation_id)["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page.goto("/veo31")
    card = page.locator(f"#gallery-list li[data-id='{generation_id}']")
    expect(card).to_be_visible()
    page.get_by_label("Show").select_option("failed")
    expect(card).to_have_count(0)
    page.get_by_label("Show").select_option("completed")
    expect(card).to_be_visible()
    card.get_by_role("link").click()
    expect(page.locator("#watch-title")).to_have_text("Gallery Shoe")
    assert_plays(page.locator("#renditions video").first)


def test_gallery_pages_through_many(page: Page, site: Site) -> None:
    site.emulator_config(generation_seconds=120)
    made = []
    try:
        for index in range(13):
            response = site.http.post(f"{site.url}/v1/generations", json={"prompt": f"A lamp, take {index}"})
            assert response.status_code == 201
            made.append(response.json()["id"])
        page.goto("/veo31")
        cards = page.locator("#gallery-list li")
        expect(cards).to_have_count(12)
        expect(page.locator(f"#gallery-list li[data-id='{made[-1]}']")).to_be_visible()
        page.get_by_role("button", name="Show more").click()
        expect(page.locator(f"#gallery-list li[data-id='{made[0]}']")).to_be_visible()
        ids = [card.get_attribute("data-id") for card in cards.all()]
        assert len(ids) == len(set(ids)) > 12, "the second page continues the first, no repeats"
    finally:
        for generation_id in made:
            site.http.post(f"{site.url}/v1/generations/{generation_id}/cancel")
        site.emulator_config(generation_seconds=2)


def test_labelled_controls_and_keyboard(page: Page) -> None:
    # Listening before the page loads turns on Playwright's file-chooser interception in time for the key press.
    page.on("filechooser", lambda chooser: chooser.set_files([WHITE]))
    page.goto("/veo31")
    expect(page.locator("#provider option")).not_to_have_count(0)
    page.locator("#drop").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#previews img")).to_have_count(1)
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
            .filter(e => e.offsetParent !== null || e.type === 'file')
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
            .map(e => e.id || e.outerHTML)"""
    )
    assert unlabelled == []
    page.set_input_files("#file-input", [SCENE, WHITE, SCENE])
    expect(page.locator("#form-error")).to_contain_text("at most 3 photos")
    expect(page.locator("#previews img")).to_have_count(3)


@pytest.mark.parametrize("width,height", [(390, 844)])
def test_phone_width(browser: Browser, site: Site, console: Console, width: int, height: int) -> None:
    generation_id = create_via_api(site, product_name="Phone Watch")
    context = new_context(browser, site, console, viewport={"width": width, "height": height}, is_mobile=True)
    try:
        page = context.new_page()
        page.goto("/veo31")
        expect(page.locator("#provider option")).not_to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        screenshot(page, "phone-form", full_page=False)
        open_generation(page, generation_id)
        statuses_until(page, {"completed"})
        assert_plays(page.locator("#renditions video").first)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, "phone-finished", full_page=False)
        screenshot(page, "phone-whole-page")
    finally:
        context.close()
    assert console.errors == []


def test_a_server_with_tokens_asks_once(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, console: Console
) -> None:
    secret = "page-test-token-" + "x" * 16
    server, site = serve(tmp_path_factory, {"VEO31_API_TOKENS": secret})
    context = new_context(browser, site, console, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto("/veo31")
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        page.get_by_role("textbox", name="API token").fill("wrong-token")
        page.get_by_role("button", name="Save token").click()
        expect(page.locator("#token-error")).to_contain_text("not accepted")
        page.get_by_role("textbox", name="API token").fill(secret)
        page.get_by_role("button", name="Save token").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#provider")).to_have_value("auto")
        page.reload()
        expect(page.locator("#provider")).to_have_value("auto")
        expect(page.get_by_role("dialog")).to_be_hidden()
        assert secret not in page.content(), "the token is never put into the page"
        headers = {"Authorization": f"Bearer {secret}"}
        response = site.http.post(
            f"{site.url}/v1/generations",
            files=[("images", (WHITE.name, WHITE.read_bytes(), "image/jpeg"))],
            headers=headers,
        )
        open_generation(page, response.json()["id"])
        statuses_until(page, {"completed"})
        assert_plays(page.locator("#renditions video").first)  # a signed link: no header needed
    finally:
        context.close()
        server.stop()
    assert console.errors == []
