"""A store export read whole: its text decoded (UTF-8 with or without a BOM, else Windows-1252, as spreadsheets on
Windows save it), its format told from its header (or its XML root), and its rows folded into products."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from veo31.catalogue import feeds, stores
from veo31.catalogue.products import Catalogue, Format
from veo31.errors import InputError

MAX_FIELD = 1024 * 1024  # a product description can be long; a single field of more is not a product export

# What each format's header must hold (lower case), tried in this order: the most specific first.
SIGNATURES: list[tuple[Format, set[str]]] = [
    (Format.SHOPIFY, {"handle", "image src"}),
    (Format.SHOPIFY_NEW, {"url handle", "product image url"}),
    (Format.WOOCOMMERCE, {"name", "images", "type"}),
    (Format.MERCHANT_TSV, {"id", "image_link"}),
    (Format.VEO31, {"images"}),
]


def read_catalogue(content: bytes) -> Catalogue:
    """The products of an export; a file in no known format is refused, naming the formats and its first columns."""
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return feeds.merchant_xml(content)
    text = decoded(content)
    rows = list(_rows(text))
    if not rows:
        raise InputError("the file is empty: export the products with their header row", field="file")
    header = [name.strip().lower() for name in rows[0]]
    kind = next((kind for kind, needed in SIGNATURES if needed <= set(header)), None)
    if kind is None:
        shown = ", ".join(name for name in rows[0][:6] if name.strip()) or "nothing"
        raise InputError(
            "the file is no product export veo31 reads (Shopify, WooCommerce, Google Merchant Center, or veo31's CSV "
            f"with an images column); its header starts with: {shown}",
            field="file",
        )
    records = [dict(zip(header, (cell.strip() for cell in row), strict=False)) for row in rows[1:]]
    return READERS[kind](records)


def decoded(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")  # every byte is a character: nothing is refused for its encoding alone


def _rows(text: str) -> Iterator[list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    csv.field_size_limit(MAX_FIELD)
    try:
        yield from (
            row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)
        )
    except csv.Error as error:
        raise InputError(f"the file is not a readable CSV or TSV file: {error}", field="file") from None


READERS = {
    Format.SHOPIFY: stores.shopify_classic,
    Format.SHOPIFY_NEW: stores.shopify_new,
    Format.WOOCOMMERCE: stores.woocommerce,
    Format.MERCHANT_TSV: feeds.merchant_rows,
    Format.VEO31: stores.veo31_rows,
}
