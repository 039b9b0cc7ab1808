"""Store exports read into products: each store's documented shape, written here (variants, images out of order,
products without images, a BOM, Windows-1252 text), folded into one product each with up to three images in the
store's order; rows that cannot make a video listed with the reason; a file of no known shape, and an XML entity
bomb, refused in words."""

from __future__ import annotations

import csv
import io

import pytest

from veo31.catalogue.products import Format
from veo31.catalogue.read import read_catalogue
from veo31.errors import InputError

CDN = "https://cdn.example.com"


def table(header: list[str], rows: list[dict[str, str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


SHOPIFY_HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Option1 Name", "Option1 Value", "Variant SKU",
                  "Variant Price", "Image Src", "Image Position", "Image Alt Text", "Variant Image",
                  "Status"]  # fmt: skip


def test_a_classic_shopify_export_folds_variants_and_orders_images_by_position() -> None:
    rows = [
        {"Handle": "blue-mug", "Title": "Blue Mug", "Option1 Name": "Size", "Option1 Value": "S",
         "Variant SKU": "MUG-S", "Image Src": f"{CDN}/mug-2.jpg", "Image Position": "2"},
        {"Handle": "blue-mug", "Option1 Value": "L", "Variant SKU": "MUG-L", "Image Src": f"{CDN}/mug-1.jpg",
         "Image Position": "1", "Variant Image": f"{CDN}/mug-l.jpg"},
        {"Handle": "blue-mug", "Image Src": f"{CDN}/mug-3.jpg", "Image Position": "3"},
        {"Handle": "blue-mug", "Image Src": f"{CDN}/mug-4.jpg", "Image Position": "4"},
        {"Handle": "gift-card", "Title": "Gift card", "Variant SKU": "GIFT"},
        {"Handle": "lamp", "Title": "Desk Lamp", "Image Src": "/local/lamp.jpg", "Image Position": "1"},
    ]  # fmt: skip
    read = read_catalogue(("\ufeff" + table(SHOPIFY_HEADER, rows)).encode())
    assert read.format is Format.SHOPIFY
    [mug] = read.products
    assert (mug.id, mug.title, mug.row) == ("blue-mug", "Blue Mug", 1)
    assert mug.images == (f"{CDN}/mug-1.jpg", f"{CDN}/mug-2.jpg", f"{CDN}/mug-3.jpg"), "by position, at most three"
    assert [(item.row, item.reason) for item in read.skipped] == [
        (5, "gift-card: no image"),
        (6, "lamp: no image veo31 can fetch (1 not a web address)"),
    ]


def test_the_newer_shopify_export_is_read_by_its_own_columns() -> None:
    header = ["Title", "URL handle", "Description", "Vendor", "SKU", "Option1 name", "Option1 value",
              "Product image URL", "Image position", "Image alt text", "Variant image URL", "Status"]  # fmt: skip
    rows = [
        {"Title": "Café Press", "URL handle": "cafe-press", "SKU": "CP-1", "Product image URL": f"{CDN}/press-b.jpg",
         "Image position": "2"},
        {"URL handle": "cafe-press", "Product image URL": f"{CDN}/press-a.jpg", "Image position": "1"},
    ]  # fmt: skip
    read = read_catalogue(table(header, rows).encode("cp1252"))  # as Excel on Windows saves it
    assert read.format is Format.SHOPIFY_NEW
    [press] = read.products
    assert press.title == "Café Press" and press.images == (f"{CDN}/press-a.jpg", f"{CDN}/press-b.jpg")


def test_a_woocommerce_export_folds_variations_into_their_parent() -> None:
    header = ["ID", "Type", "SKU", "Name", "Published", "Regular price", "Images", "Parent"]
    rows = [
        {"ID": "10", "Type": "variable", "SKU": "TEE", "Name": "Tee", "Images": f"{CDN}/tee-a.jpg, {CDN}/tee-b.jpg"},
        {"ID": "11", "Type": "variation", "SKU": "TEE-RED", "Name": "Tee - Red", "Images": f"{CDN}/tee-red.jpg",
         "Parent": "id:10"},
        {"ID": "12", "Type": "variation", "SKU": "X-1", "Name": "Lost", "Parent": "id:99"},
        {"ID": "20", "Type": "simple", "SKU": "", "Name": "Scarf", "Images": ""},
    ]  # fmt: skip
    read = read_catalogue(table(header, rows).encode())
    assert read.format is Format.WOOCOMMERCE
    [tee] = read.products
    assert tee.id == "TEE" and tee.images == (f"{CDN}/tee-a.jpg", f"{CDN}/tee-b.jpg", f"{CDN}/tee-red.jpg")
    assert [item.row for item in read.skipped] == [3, 4] and "id:99" in read.skipped[0].reason


def test_a_merchant_center_tsv_feed_groups_variants_by_item_group() -> None:
    header = ["id", "title", "description", "link", "image_link", "additional_image_link", "item_group_id", "price"]
    rows = [
        {"id": "SHOE-40", "title": "Runner", "image_link": f"{CDN}/run.jpg",
         "additional_image_link": f"{CDN}/run-side.jpg,{CDN}/run-sole.jpg", "item_group_id": "RUNNER"},
        {"id": "SHOE-41", "title": "Runner", "image_link": f"{CDN}/run.jpg", "item_group_id": "RUNNER"},
        {"id": "CAP", "title": "Cap", "image_link": f"{CDN}/cap.jpg"},
    ]  # fmt: skip
    read = read_catalogue(table(header, rows, "\t").encode())
    assert read.format is Format.MERCHANT_TSV
    assert [(p.id, p.images) for p in read.products] == [
        ("RUNNER", (f"{CDN}/run.jpg", f"{CDN}/run-side.jpg", f"{CDN}/run-sole.jpg")),
        ("CAP", (f"{CDN}/cap.jpg",)),
    ]


def test_a_merchant_center_xml_feed_is_read_from_the_g_namespace() -> None:
    feed = f"""<?xml version="1.0"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel><title>Shop</title>
<item><g:id>LAMP-1</g:id><title>Desk Lamp</title><g:image_link>{CDN}/lamp.jpg</g:image_link>
<g:additional_image_link>{CDN}/lamp-on.jpg</g:additional_image_link>
<g:additional_image_link>{CDN}/lamp-box.jpg</g:additional_image_link></item>
<item><g:id>NOPIC</g:id><g:title>No picture</g:title></item>
</channel></rss>"""
    read = read_catalogue(feed.encode())
    assert read.format is Format.MERCHANT_XML
    [lamp] = read.products
    assert lamp.title == "Desk Lamp" and lamp.images == (f"{CDN}/lamp.jpg", f"{CDN}/lamp-on.jpg", f"{CDN}/lamp-box.jpg")
    assert read.skipped[0].reason == "NOPIC: no image"


def test_veo31s_own_csv_keeps_paths_and_settings() -> None:
    read = read_catalogue(b"images,product_name,duration\nlamp.jpg;lamp-side.jpg,Desk Lamp,6\n")
    assert read.format is Format.VEO31
    [lamp] = read.products
    assert lamp.images == ("lamp.jpg", "lamp-side.jpg") and lamp.settings["duration"] == "6"


@pytest.mark.parametrize(
    "content, words",
    [
        (b"sku,price\nA,1\n", "its header starts with: sku, price"),
        (b"", "the file is empty"),
        (
            b'<?xml version="1.0"?><!DOCTYPE bomb [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<rss><channel><item><title>&b;</title></item></channel></rss>",
            "not XML veo31 can read safely",
        ),
    ],
    ids=["unknown-header", "empty", "entity-bomb"],
)
def test_what_is_no_product_export_is_refused_in_words(content: bytes, words: str) -> None:
    with pytest.raises(InputError, match=words):
        read_catalogue(content)


def test_a_products_key_changes_with_its_images_and_settings_only() -> None:
    from veo31.catalogue.sync import sync_key

    key = sync_key("blue-mug", ["aa", "bb"], {"duration": 8, "aspect_ratio": "9:16"})
    assert key == sync_key("blue-mug", ["aa", "bb"], {"aspect_ratio": "9:16", "duration": 8}), "the same run again"
    assert key != sync_key("blue-mug", ["aa", "cc"], {"duration": 8, "aspect_ratio": "9:16"}), "a changed image"
    assert key != sync_key("blue-mug", ["bb", "aa"], {"duration": 8, "aspect_ratio": "9:16"}), "another first image"
    assert key != sync_key("red-mug", ["aa", "bb"], {"duration": 8, "aspect_ratio": "9:16"})
