"""Google: Veo 3.1 on Vertex AI or the Gemini API (../shared/specs/gemini-veo31-api.md), as one provider entry.

`transports` speaks each surface; `provider` puts them behind the provider contract; `ops` is the request and the
operation as data; `errors` reads Google's refusals.
"""

from __future__ import annotations

from veo31.config import Settings
from veo31.domain import Cost
from veo31.errors import ConfigurationError
from veo31.providers.entry import DoctorCheck, PriceQuery, ProviderEntry, QueueLimits, fleet_limits
from veo31.providers.gemini.errors import LABEL, PROVIDER
from veo31.providers.gemini.ops import GEMINI_CAPABILITIES
from veo31.providers.gemini.provider import SURFACE_LABELS, GeminiProvider


def _configured(settings: Settings) -> bool:
    return settings.google_surface is not None


def _queue_limits(settings: Settings) -> QueueLimits:
    return fleet_limits(
        settings.gemini_concurrency,
        settings.gemini_fleet_concurrency,
        settings.gemini_rate_limit,
        settings.gemini_rate_period,
    )


def _estimate(query: PriceQuery, settings: Settings) -> Cost:
    """Google charges per second of output, by tier and resolution."""
    per_second = settings.gemini_prices.get(query.model_tier, {}).get(query.resolution)
    if per_second is None:
        return Cost(0.0, f"no Google price set for {query.model_tier} at {query.resolution} (VEO31_GEMINI_PRICES)")
    return Cost(
        round(per_second * query.duration_seconds, 4),
        f"${per_second:g}/s × {query.duration_seconds} s ({query.model_tier}, {query.resolution})",
    )


async def _doctor(settings: Settings) -> DoctorCheck:
    """Google's model lookup is free: each tier's model must be served on the configured surface."""
    try:
        provider = GeminiProvider.from_settings(settings)
    except ConfigurationError as exc:
        return DoctorCheck(False, exc.message)
    try:
        problem = await provider.check()
    finally:
        await provider.aclose()
    if problem:
        return DoctorCheck(False, problem)
    served = ", ".join(sorted(set(provider.models.values())))
    return DoctorCheck(True, f"{SURFACE_LABELS[provider.surface]} serves {served}")


ENTRY = ProviderEntry(
    name=PROVIDER,
    label=LABEL,
    capabilities=GEMINI_CAPABILITIES,
    factory=GeminiProvider.from_settings,
    configured=_configured,
    setup_hint="set GEMINI_API_KEY, or GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_API_KEY or GOOGLE_CLOUD_PROJECT",
    queue_limits=_queue_limits,
    estimate=_estimate,
    doctor=_doctor,
    account_logs="Google's usage for the project (Cloud console, or AI Studio for the Gemini API)",
)
