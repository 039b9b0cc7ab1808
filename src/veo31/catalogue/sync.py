"""Sync, not repeat: a catalogue product's generation is keyed by what makes its video — the product's id, the
content of its images (their digests, in order) and the settings it is made with — so running the same export again
finds the generations it made, and a new export starts only the products whose images or settings changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any


def sync_key(product_id: str, image_digests: Sequence[str], settings: Mapping[str, Any]) -> str:
    """The idempotency key of a product's generation (the same inputs, the same key)."""
    said = json.dumps(
        {"product": product_id, "images": list(image_digests), "settings": dict(settings)}, sort_keys=True
    )
    return "veo31:catalogue:" + hashlib.sha256(said.encode()).hexdigest()
