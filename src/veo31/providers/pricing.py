"""What a generation costs: an estimate before submitting, from prices kept in settings (they change; the
defaults are the specs' figures), in US dollars so that providers and the budget can be added up.

Kie.ai charges credits per clip (its tier, plus the 1080p / 4k step when asked for at generation); Google charges
per second of output by tier and resolution; the local renderer is free.
"""

from __future__ import annotations

from dataclasses import dataclass

from veo31.config import Settings


@dataclass(frozen=True)
class Cost:
    usd: float
    basis: str  # how it was reached, in words a person checks against the provider's price list


FREE = Cost(0.0, "free: rendered on this machine")


def estimate(provider: str, *, model_tier: str, duration_seconds: int, resolution: str, settings: Settings) -> Cost:
    if provider == "kie":
        credits = settings.kie_credits.get(model_tier, 0.0) + settings.kie_upgrade_credits.get(resolution, 0.0)
        usd = round(credits * settings.kie_credit_usd, 4)
        return Cost(usd, f"{credits:g} Kie.ai credits × ${settings.kie_credit_usd:g}")
    if provider == "gemini":
        per_second = settings.gemini_prices.get(model_tier, {}).get(resolution)
        if per_second is None:
            return Cost(0.0, f"no Google price set for {model_tier} at {resolution} (VEO31_GEMINI_PRICES)")
        usd = round(per_second * duration_seconds, 4)
        return Cost(usd, f"${per_second:g}/s × {duration_seconds} s ({model_tier}, {resolution})")
    return FREE


def credits_to_usd(credits: float, settings: Settings) -> float:
    return round(credits * settings.kie_credit_usd, 4)
