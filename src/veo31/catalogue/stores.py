"""Shop exports: Shopify's product CSV (its classic header and its newer one: one row per variant or extra image,
grouped by the product's handle), WooCommerce's (one row per product or variation, images comma-separated), and
veo31's own batch CSV. Each product's images come in the store's order."""

from __future__ import annotations

from veo31.catalogue.products import Catalogue, Format, Gathering, Skipped, gathered

Record = dict[str, str]


def shopify_classic(records: list[Record]) -> Catalogue:
    return _shopify(records, Format.SHOPIFY, ("handle", "image src", "image position", "variant image"))


def shopify_new(records: list[Record]) -> Catalogue:
    return _shopify(
        records, Format.SHOPIFY_NEW, ("url handle", "product image url", "image position", "variant image url")
    )


def _shopify(records: list[Record], fmt: Format, columns: tuple[str, str, str, str]) -> Catalogue:
    """Rows grouped by handle (a variant's row carries the handle and, often, nothing else of the product): the
    title from the row that has it, the product's images by their Image Position, then its variants' images."""
    handle_column, image_column, position_column, variant_column = columns
    groups: dict[str, Gathering] = {}
    skipped = []
    for row, record in enumerate(records, start=1):
        handle = record.get(handle_column, "")
        if not handle:
            skipped.append(Skipped(row, f"no {handle_column.replace('url ', 'URL ')}: the row belongs to no product"))
            continue
        group = groups.setdefault(handle, Gathering(row))
        group.title = group.title or record.get("title", "")
        group.add_image(record.get(image_column, ""), _position(record.get(position_column, "")))
        group.add_image(record.get(variant_column, ""), 10_000.0 + row)  # after the product's own pictures
    return gathered(groups, fmt, skipped)


def woocommerce(records: list[Record]) -> Catalogue:
    """One row per product; a variation's row (`Type` variation) folds into its parent (`Parent`: id:123 or the
    parent's SKU), adding its images after the parent's."""
    groups: dict[str, Gathering] = {}
    aliases: dict[str, str] = {}
    variations: list[tuple[int, Record]] = []
    skipped = []
    for row, record in enumerate(records, start=1):
        if record.get("type", "").lower() == "variation":
            variations.append((row, record))
            continue
        product_id = record.get("sku") or record.get("id") or ""
        if not product_id:
            skipped.append(Skipped(row, "no ID or SKU: the row cannot be told apart from the others"))
            continue
        for alias in (f"id:{record.get('id', '')}", record.get("id", ""), record.get("sku", "")):
            if alias and alias != "id:":
                aliases[alias] = product_id
        group = groups.setdefault(product_id, Gathering(row))
        group.title = group.title or record.get("name", "")
        for position, url in enumerate(_split(record.get("images", ""), ",")):
            group.add_image(url, position)
    for row, record in variations:
        parent = aliases.get(record.get("parent", ""))
        if parent is None:
            skipped.append(Skipped(row, f"a variation of {record.get('parent') or 'no product'}, not in the file"))
            continue
        for url in _split(record.get("images", ""), ","):
            groups[parent].add_image(url, 10_000.0 + row)
    return gathered(groups, Format.WOOCOMMERCE, skipped)


def veo31_rows(records: list[Record]) -> Catalogue:
    """veo31's batch CSV: `images` (paths or URLs, separated by `;`), `product_name`, and per-row settings; a
    product's id is its `id` column, or its row."""
    groups: dict[str, Gathering] = {}
    for row, record in enumerate(records, start=1):
        product_id = record.get("id") or f"row-{row}"
        group = groups.setdefault(product_id, Gathering(row, record.get("product_name", "")))
        group.settings = {name: value for name, value in record.items() if name not in ("id", "images") and value}
        for position, item in enumerate(_split(record.get("images", ""), ";")):
            group.add_image(item, position)
    return gathered(groups, Format.VEO31)


def _split(value: str, separator: str) -> list[str]:
    return [part.strip() for part in value.split(separator) if part.strip()]


def _position(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("inf")  # no position: after the numbered ones, in the order read
