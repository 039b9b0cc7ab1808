"""Catalogue runs over HTTP against the Kie emulator: a Shopify export (variants, a product without an image)
becomes one video per product, its results as CSV and JSON with links that download; the same export again starts
nothing; a changed image restarts only its product; signed webhooks announce every product and the batch, verified
by the Standard Webhooks reference package while the receiver fails 30 % of the time."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import KieEmulatorHandle, png_bytes
from tests.integration.conftest import Api, hosted_image
from tests.receivers import Receiver, receiving

HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Option1 Name", "Option1 Value", "Variant SKU",
          "Variant Price", "Image Src", "Image Position", "Image Alt Text", "Variant Image", "Status"]  # fmt: skip


def shopify_export(products: dict[str, list[str]], *, without_image: str | None = "gift-card") -> bytes:
    """A classic Shopify export: each product's first row with its title and a variant, a second variant row,
    then an image per row (positions given); a product with no image at all when asked."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    for handle, images in products.items():
        title = handle.replace("-", " ").title()
        writer.writerow({"Handle": handle, "Title": title, "Option1 Name": "Size", "Option1 Value": "S",
                         "Variant SKU": f"{handle}-s", "Image Src": images[0], "Image Position": "1"})  # fmt: skip
        writer.writerow({"Handle": handle, "Option1 Value": "L", "Variant SKU": f"{handle}-l"})
        for position, url in enumerate(images[1:], start=2):
            writer.writerow({"Handle": handle, "Image Src": url, "Image Position": str(position)})
    if without_image:
        writer.writerow({"Handle": without_image, "Title": "Gift card", "Variant SKU": "GIFT"})
    return ("\ufeff" + out.getvalue()).encode()


def post_batch(api: Api, content: bytes, expect: int = 201, **fields: str) -> dict[str, Any]:
    response = api.http.post("/v1/batches", files={"file": ("products_export.csv", content, "text/csv")}, data=fields)
    assert response.status_code == expect, response.text
    return response.json()


def finished(api: Api, batch_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        batch = api.http.get(f"/v1/batches/{batch_id}").json()
        if batch["finished"]:
            return batch
        assert time.monotonic() < deadline, batch
        time.sleep(0.1)


def images(kie: KieEmulatorHandle, count: int) -> list[str]:
    return [hosted_image(kie, png_bytes(colour=(30 + 40 * index, 90, 200 - 30 * index))) for index in range(count)]


def test_a_shopify_export_makes_one_video_per_product_and_a_rerun_starts_nothing(
    api: Api, kie: KieEmulatorHandle
) -> None:
    urls = images(kie, 4)
    export = {"red-bottle": [urls[0], urls[1]], "blue-mug": [urls[2]], "green-lamp": [urls[3]]}
    batch = post_batch(api, shopify_export(export), use_case="product_video", model_tier="fast")
    assert (batch["format"], batch["products"]) == ("shopify", 3)
    assert batch["skipped"] == [{"row": 8, "reason": "gift-card: no image"}]
    done = finished(api, batch["id"])
    assert done["counts"] == {"completed": 3}
    assert done["spent_usd"] > 0
    paid = kie.calls("generate")
    assert paid == 3

    table = api.http.get(f"/v1/batches/{batch['id']}/results.csv")
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [(row["product_id"], row["title"], row["status"]) for row in rows] == [
        ("red-bottle", "Red Bottle", "completed"),
        ("blue-mug", "Blue Mug", "completed"),
        ("green-lamp", "Green Lamp", "completed"),
    ]
    for row in rows:
        assert row["video_url"].startswith(api.url) and row["quality"] in ("passed", "failed")
        video = httpx.get(row["video_url"], timeout=30)
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    as_json = api.http.get(f"/v1/batches/{batch['id']}/results.json").json()
    assert [item["generation_id"] for item in as_json["products"]] == [row["generation_id"] for row in rows]

    again = finished(api, post_batch(api, shopify_export(export), use_case="product_video", model_tier="fast")["id"])
    assert again["counts"] == {"completed": 3} and kie.calls("generate") == paid, "the same export starts nothing"
    same = api.http.get(f"/v1/batches/{again['id']}/results.json").json()["products"]
    assert [item["generation_id"] for item in same] == [row["generation_id"] for row in rows]

    changed = {**export, "blue-mug": [hosted_image(kie, png_bytes(colour=(250, 250, 20)))]}
    third = finished(api, post_batch(api, shopify_export(changed), use_case="product_video", model_tier="fast")["id"])
    assert third["counts"] == {"completed": 3}
    assert kie.calls("generate") == paid + 1, "only the product whose image changed is made again"
    now = api.http.get(f"/v1/batches/{third['id']}/results.json").json()["products"]
    assert [item["generation_id"] == row["generation_id"] for item, row in zip(now, rows, strict=True)] == [
        True,
        False,
        True,
    ]


def test_bad_batches_are_refused_in_words_and_store_nothing(api: Api) -> None:
    before = api.http.get("/v1/batches").json()["items"]
    unknown = post_batch(api, b"name,price\nmug,3\n", expect=422)
    assert unknown["field"] == "file" and "Shopify" in unknown["detail"] and "name, price" in unknown["detail"]
    assert post_batch(api, b"", expect=422)["field"] == "file"
    wrong = post_batch(api, shopify_export({"a": ["https://example.com/a.jpg"]}), expect=422, duration_seconds="99")
    assert wrong["field"] == "duration_seconds"
    odd = post_batch(api, shopify_export({"a": ["https://example.com/a.jpg"]}), expect=422, colour="red")
    assert "colour is no request field" in odd["detail"]
    no_file = api.http.post("/v1/batches", data={"use_case": "product_video"})
    assert no_file.status_code == 422 and "file" in no_file.json()["detail"]
    assert api.http.get("/v1/batches/nope").status_code == 404
    assert api.http.get("/v1/batches").json()["items"] == before


def test_a_product_whose_image_cannot_be_fetched_fails_alone_and_retry_gives_it_another_go(
    api: Api, kie: KieEmulatorHandle
) -> None:
    good = images(kie, 1)[0]
    missing = f"{kie.url}/files/none/missing.png"
    batch = post_batch(api, shopify_export({"fine": [good], "broken": [missing]}, without_image=None))
    done = finished(api, batch["id"])
    assert done["counts"] == {"completed": 1, "failed": 1}
    rows = api.http.get(f"/v1/batches/{batch['id']}/results.json").json()["products"]
    broken = next(row for row in rows if row["product_id"] == "broken")
    assert broken["status"] == "failed" and "missing.png" in broken["error"] and not broken["generation_id"]
    retried = api.http.post(f"/v1/batches/{batch['id']}/retry")
    assert retried.status_code == 200
    again = finished(api, batch["id"])
    assert again["counts"] == {"completed": 1, "failed": 1}, "the image is still missing: it fails again, alone"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as flaky:
        yield flaky


def test_signed_webhooks_announce_every_product_and_the_batch_through_a_flaky_receiver(
    api: Api, kie: KieEmulatorHandle, receiver: Receiver
) -> None:
    made = api.http.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["generation.completed", "batch.completed"]}
    )
    assert made.status_code == 201, made.text
    endpoint = made.json()
    assert endpoint["secret"].startswith("whsec_")
    receiver.secret = endpoint["secret"]
    try:
        urls = images(kie, 5)
        batch = post_batch(api, shopify_export({f"item-{n}": [url] for n, url in enumerate(urls)}, without_image=None))
        finished(api, batch["id"])
        deadline = time.monotonic() + 60
        while True:
            ours = [body for body in receiver.bodies() if batch["id"] in str(body["data"])]
            types = [event["type"] for event in ours]
            if types.count("generation.completed") >= 5 and "batch.completed" in types:
                break
            assert time.monotonic() < deadline, (types, receiver.refused)
            time.sleep(0.2)
        assert receiver.forged == 0 and receiver.refused > 0, "the receiver did refuse some; all were retried"
        rows = api.http.get(f"/v1/batches/{batch['id']}/results.json").json()["products"]
        announced = {body["data"]["id"]: body for body in ours}
        for row in rows:
            event = announced[row["generation_id"]]
            assert event["data"]["batch_id"] == batch["id"] and event["data"]["product_id"] == row["product_id"]
            assert event["data"]["video_url"].startswith(api.url)
        assert receiver.repeats_identical(), "a repeat is the same message, byte for byte"
        [batch_event] = [body for body in ours if body["type"] == "batch.completed"]
        assert batch_event["data"]["counts"] == {"completed": 5}

        log = api.http.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["items"]
        assert {item["state"] for item in log} == {"delivered"} and len(log) == len(receiver.taken)
        assert any(attempt["status_code"] == 503 for item in log for attempt in item["attempts"])
        listed = api.http.get("/v1/webhooks").text
        assert endpoint["secret"] not in listed and endpoint["secret"] not in str(log)

        first = log[-1]["event_id"]
        receiver.failure_rate = 0.0
        again = api.http.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{first}/redeliver")
        assert again.status_code == 202
        deadline = time.monotonic() + 20
        while len(receiver.taken[first]) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        api.http.delete(f"/v1/webhooks/{endpoint['id']}")


def test_a_rotated_secret_overlaps_and_bad_endpoints_are_refused(api: Api, receiver: Receiver) -> None:
    for body, field_name in (
        ({"url": "ftp://example.com/x", "events": ["generation.completed"]}, "url"),
        ({"url": receiver.url, "events": ["generation.done"]}, "events"),
        ({"url": receiver.url, "events": []}, "events"),
    ):
        refused = api.http.post("/v1/webhooks", json=body)
        assert refused.status_code == 422 and refused.json()["field"] == field_name, refused.text
    endpoint = api.http.post("/v1/webhooks", json={"url": receiver.url, "events": ["batch.completed"]}).json()
    try:
        rotated = api.http.post(f"/v1/webhooks/{endpoint['id']}/rotate").json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]
        assert api.http.get(f"/v1/webhooks/{endpoint['id']}").json().keys() == {"id", "url", "events", "created_at"}
    finally:
        assert api.http.delete(f"/v1/webhooks/{endpoint['id']}").status_code == 204
    assert api.http.get(f"/v1/webhooks/{endpoint['id']}").status_code == 404


def test_a_canceled_batch_starts_nothing_more_and_ends(api: Api, kie: KieEmulatorHandle) -> None:
    kie.control.post("/_emulator/config", json={"generation_seconds": 30}).raise_for_status()
    urls = images(kie, 6)
    batch = post_batch(api, shopify_export({f"slow-{n}": [url] for n, url in enumerate(urls)}, without_image=None))
    stopped = api.http.post(f"/v1/batches/{batch['id']}/cancel")
    assert stopped.status_code == 200, stopped.text
    done = finished(api, batch["id"], timeout=30)
    assert done["state"] == "canceled" and done["counts"] == {"canceled": 6}, done["counts"]
    paid = kie.calls("generate")
    time.sleep(1.5)
    assert kie.calls("generate") == paid, "nothing more was started"
    rows = api.http.get(f"/v1/batches/{batch['id']}/results.json").json()["products"]
    assert {row["status"] for row in rows} == {"canceled"}
    again = api.http.post(f"/v1/batches/{batch['id']}/retry").json()
    assert again["state"] == "running" and not again["finished"], "retry takes a canceled batch up again"
    api.http.post(f"/v1/batches/{again['id']}/cancel")
