"""Our stable links, as other systems receive them (webhooks, a batch's results): on VEO31_PUBLIC_URL when it is
set, else on the address this process serves."""

from __future__ import annotations

from typing import Any

from veo31.config import Settings


def public_base(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def quality_verdict(quality: dict[str, Any] | None) -> dict[str, Any] | None:
    """The quality gate's verdict in short: passed, its score, and what failed in words."""
    if not quality:
        return None
    failed = [check.get("message", "") for check in quality.get("checks", []) if not check.get("passed", True)]
    return {"passed": bool(quality.get("passed")), "score": quality.get("score"), "reasons": failed}
