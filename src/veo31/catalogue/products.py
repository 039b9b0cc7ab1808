"""What a catalogue is once read: its format, its products and the rows set aside, each with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MAX_IMAGES = 3  # Veo 3.1 takes up to three reference images
# veo31's CSV: a column → the request field it sets for its row (use_case and product_name keep their names).
SETTING_COLUMNS = {
    "use_case": "use_case",
    "provider": "provider",
    "model": "model_tier",
    "duration": "duration_seconds",
    "aspect": "aspect_ratio",
    "resolution": "resolution",
    "fps": "fps",
    "prompt": "prompt",
    "extra": "extra_prompt",
}


class Format(StrEnum):
    SHOPIFY = "shopify"  # the classic export: Handle, Title, Image Src, Image Position
    SHOPIFY_NEW = "shopify_new"  # the newer export: URL handle, Title, Product image URL, Image position
    WOOCOMMERCE = "woocommerce"  # ID, Name, Images (comma-separated), Type, Parent
    MERCHANT_TSV = "merchant_tsv"  # Google Merchant Center: id, title, image_link, additional_image_link
    MERCHANT_XML = "merchant_xml"  # the same fields in an RSS 2.0 feed, in the g: namespace
    VEO31 = "veo31"  # veo31's own CSV: images, product_name, use_case and overrides


@dataclass(frozen=True)
class Product:
    """One product to make a video of: its id in the store, its title, its images (URLs, or paths relative to the
    file for veo31's own CSV) in the store's order, the row it starts on, and any per-row settings (veo31's CSV)."""

    id: str
    title: str
    images: tuple[str, ...]
    row: int
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    row: int
    reason: str


@dataclass(frozen=True)
class Catalogue:
    format: Format
    products: list[Product]
    skipped: list[Skipped]


@dataclass
class Gathering:
    """A product's rows as they are read: its first row, its title, its images with their order in the store."""

    row: int
    title: str = ""
    images: list[tuple[float, int, str]] = field(default_factory=list)  # (store's position, order read, url)
    settings: dict[str, str] = field(default_factory=dict)

    def add_image(self, url: str, position: float = float("inf")) -> None:
        if url:
            self.images.append((position, len(self.images), url))


def gathered(groups: dict[str, Gathering], fmt: Format, skipped: list[Skipped] | None = None) -> Catalogue:
    """Products from their gathered rows: images in the store's order, each once, web addresses only (a path in a
    store export points at nothing veo31 can fetch), at most MAX_IMAGES; a product left with none is set aside."""
    products, skipped = [], list(skipped or [])
    for product_id, group in groups.items():
        images: list[str] = []
        ignored = 0
        for _, _, url in sorted(group.images):
            if url in images:
                continue
            if not url.lower().startswith(("http://", "https://")) and fmt is not Format.VEO31:
                ignored += 1
                continue
            images.append(url)
        if not images:
            why = "no image" if not ignored else f"no image veo31 can fetch ({ignored} not a web address)"
            skipped.append(Skipped(group.row, f"{product_id}: {why}"))
            continue
        title = group.title or product_id
        products.append(Product(product_id, title, tuple(images[:MAX_IMAGES]), group.row, group.settings))
    return Catalogue(fmt, products, sorted(skipped, key=lambda item: item.row))
