"""The quality gate on the page: a video that shows the product in another colour, held for review
(VEO31_QUALITY_GATE=hold) — the verdict and what failed, the photo beside the worst frame, the video playing, the card
and its filter — then approved from the page, with a note that lands in the history."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import desk_page, screenshot, served
from tests.e2e.helpers import assert_plays, create_via_api, open_generation, statuses_until


def test_a_held_video_is_reviewed_and_approved_on_the_page(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with served(tmp_path_factory, {"VEO31_QUALITY_GATE": "hold"}) as site, desk_page(browser, site) as page:
        fault = {"kind": "hue_shift", "count": 1}  # the next result shows the product in another colour
        assert site.http.post(f"{site.emulator}/_emulator/faults", json=fault).status_code == 200
        generation_id = create_via_api(site, product_name="Teal Mug")
        open_generation(page, generation_id)
        assert statuses_until(page, {"needs_review", "completed", "failed"})[-1] == "needs_review"
        expect(page.locator("#status-text")).to_have_text("Needs your review")
        expect(page.locator("#quality-verdict")).to_contain_text("failed")
        expect(page.locator("#quality-failures")).to_contain_text("Colour")
        frame = page.locator("#quality-frame")
        expect(frame).to_be_visible()
        assert frame.evaluate("image => image.complete && image.naturalWidth > 0"), "the side-by-side picture loads"
        assert_plays(page.locator("#renditions video").first)
        expect(page.get_by_role("button", name="Cancel", exact=True)).to_be_hidden()

        card = page.locator(f"#gallery-list li[data-id='{generation_id}']")
        expect(card.locator(".badge")).to_have_text("needs review")
        expect(card.locator(".verdict")).to_contain_text("✗")
        page.get_by_label("Show").select_option("needs_review")
        expect(card).to_be_visible()
        screenshot(page, "desktop-needs-review")

        page.get_by_label("Note for the history (optional)").fill("the teal is the new colour")
        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.locator("#status-text")).to_have_text("Ready")
        expect(page.locator("#review")).to_be_hidden()
        expect(card).to_have_count(0)  # the filter shows those that need review: this one no longer does
        generation = site.generation(generation_id)
        assert generation["status"] == "completed"
        assert generation["history"][-1]["detail"] == "approved in review: the teal is the new colour"
