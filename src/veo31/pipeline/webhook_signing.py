"""Signatures of outgoing webhooks, as the Standard Webhooks specification defines them: a `whsec_` secret (base64
of 32 random bytes), and for each message the headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature` — `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under each secret still in use,
space-separated, so a receiver verifies with the old secret or the new one while a rotation overlaps."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(message_id: str, timestamp: int, body: bytes, keys: Sequence[str]) -> dict[str, str]:
    """The three headers for one delivery attempt of `body`, signed with every secret in `keys`."""
    if not keys:
        raise ValueError("a webhook is signed with at least one secret")
    content = f"{message_id}.{timestamp}.".encode() + body
    signatures = [
        "v1," + base64.b64encode(hmac.new(_key(key), content, hashlib.sha256).digest()).decode() for key in keys
    ]
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": " ".join(signatures)}


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))
