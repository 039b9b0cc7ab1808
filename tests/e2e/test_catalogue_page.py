"""The catalogue on the page: a Shopify export chosen and started, its progress followed to the end with every
product listed and playable, the results downloaded as CSV; a bad file refused in words; a webhook receiver added
(its secret shown once) and removed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.cli.test_catalogue_cli import hosted
from tests.e2e.conftest import Console, new_context, screenshot, served
from tests.e2e.helpers import WAIT_MS
from tests.integration.test_batches import shopify_export


def test_a_catalogue_runs_from_the_page_and_a_receiver_is_added(
    browser: Browser, console: Console, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    with served(tmp_path_factory, {"VEO31_ALLOW_PRIVATE_URLS": "true"}) as site:
        context = new_context(browser, site, console)
        page = context.new_page()
        page.goto("/")
        odd = tmp_path / "odd.csv"
        odd.write_text("name,price\nLamp,3\n", encoding="utf-8")
        page.get_by_label("Store export file").set_input_files(odd)
        page.get_by_role("button", name="Start the catalogue").click()
        expect(page.locator("#batch-error")).to_contain_text("no product export veo31 reads")

        images = [hosted(site.emulator, (40 + 60 * n, 90, 200 - 50 * n)) for n in range(3)]
        export = tmp_path / "products_export.csv"
        export.write_bytes(shopify_export({f"shirt-{n}": [image] for n, image in enumerate(images)}))
        page.get_by_label("Store export file").set_input_files(export)
        page.get_by_label("Kind of clip for each product").select_option("product_video")
        page.get_by_role("button", name="Start the catalogue").click()
        expect(page.locator("#batch-title")).to_contain_text("3 products (Shopify product CSV)")
        expect(page.locator("#batch-skipped")).to_contain_text("gift-card: no image")
        expect(page.locator("#batch-summary")).to_contain_text("Finished: 3 of 3 done", timeout=3 * WAIT_MS)
        rows = page.locator("#batch-products tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("Shirt 0 (shirt-0)")
        for number in range(3):
            expect(rows.nth(number)).to_have_attribute("data-status", "completed")
            expect(rows.nth(number).get_by_role("link", name="Play")).to_be_visible()
        with page.expect_download() as downloaded:
            page.get_by_role("button", name="Results (CSV)").click()
        table = list(csv.DictReader(io.StringIO(Path(downloaded.value.path()).read_text(encoding="utf-8"))))
        assert [row["product_id"] for row in table] == ["shirt-0", "shirt-1", "shirt-2"]
        screenshot(page, "desktop-catalogue")

        page.get_by_label("Receiver address").fill("ftp://shop.example/hooks")
        page.get_by_role("button", name="Add the receiver").click()
        expect(page.locator("#webhook-error")).to_contain_text("not an http(s) URL")
        page.get_by_label("Receiver address").fill(f"{site.url}/hooks-for-a-test")
        page.get_by_role("button", name="Add the receiver").click()
        expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
        listed = page.locator("#webhook-list li")
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text("generation.completed")
        page.reload()
        expect(page.locator("#webhook-list li")).to_have_count(1)
        expect(page.locator("#webhook-secret")).to_be_hidden()
        expect(page.locator("#batch-summary")).to_contain_text("Finished: 3 of 3 done")
        page.get_by_role("button", name="Remove the receiver").click()
        expect(page.locator("#webhook-list li")).to_have_count(0)
        expected = ("/v1/batches", "/v1/webhooks")  # the file and the address refused above, each once
        assert len(console.errors) == 2 and all(
            "422" in error and any(path in error for path in expected) for error in console.errors
        ), console.errors
        context.close()
