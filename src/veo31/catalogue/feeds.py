"""Google Merchant Center feeds: tab-separated (a header of attribute names) or XML (RSS 2.0 `item`s or Atom
`entry`s, attributes in the `g:` namespace). A product's images are its `image_link`, then its
`additional_image_link`s (repeated, or comma-separated in one); the items of one `item_group_id` (a product's
variants) fold into one product. XML is parsed with defusedxml: no entity expansion, no external fetch."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from veo31.catalogue.products import Catalogue, Format, Gathering, Skipped, gathered
from veo31.errors import InputError

G = "{http://base.google.com/ns/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"


def merchant_rows(records: list[dict[str, str]]) -> Catalogue:
    items = []
    for record in records:
        extra = [part.strip() for part in record.get("additional_image_link", "").split(",") if part.strip()]
        items.append(_item(record, extra))
    return _folded(items, Format.MERCHANT_TSV)


def merchant_xml(content: bytes) -> Catalogue:
    try:
        root = safe_xml.fromstring(content)
    except (safe_xml.ParseError, DefusedXmlException) as error:
        raise InputError(f"the feed is not XML veo31 can read safely: {error}", field="file") from None
    entries = root.findall("./channel/item") or root.findall(f"./{ATOM}entry") or root.findall(".//item")
    if not entries:
        raise InputError("the XML has no items (an RSS channel of item, or Atom entry)", field="file")
    return _folded(
        [_item(_fields(entry), _all(entry, "additional_image_link")) for entry in entries], Format.MERCHANT_XML
    )


def _fields(entry: Element) -> dict[str, str]:
    """An item's attributes by name, from the g: namespace (or plain, or Atom, for title and link)."""
    found: dict[str, str] = {}
    for child in entry:
        name = child.tag.rsplit("}", 1)[-1]
        if child.tag.startswith(G) or name not in found:
            found[name] = (child.text or "").strip()
    return found


def _all(entry: Element, name: str) -> list[str]:
    values = []
    for child in entry.findall(f"{G}{name}"):
        values += [part.strip() for part in (child.text or "").split(",") if part.strip()]
    return values


def _item(record: dict[str, str], extra: list[str]) -> tuple[str, str, str, list[str]]:
    group = record.get("item_group_id") or record.get("id", "")
    return group, record.get("title", ""), record.get("image_link", ""), extra


def _folded(items: list[tuple[str, str, str, list[str]]], fmt: Format) -> Catalogue:
    groups: dict[str, Gathering] = {}
    skipped = []
    for row, (product_id, title, image, extra) in enumerate(items, start=1):
        if not product_id:
            skipped.append(Skipped(row, "no id: the item cannot be told apart from the others"))
            continue
        group = groups.setdefault(product_id, Gathering(row, title))
        group.add_image(image, 0.0 + row / 1e6)
        for position, url in enumerate(extra, start=1):
            group.add_image(url, position + row / 1e6)
    return gathered(groups, fmt, skipped)
