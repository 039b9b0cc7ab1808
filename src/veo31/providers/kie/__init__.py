"""Kie.ai: Veo 3.1 through Kie's API (../shared/specs/kie-veo31-api.md), declared as one provider entry.

`client` speaks Kie's API exactly; `provider` puts it behind the provider contract; `status` and `errors` read
Kie's answers.
"""

from __future__ import annotations

from veo31.config import Settings
from veo31.domain import Cost
from veo31.errors import ConfigurationError, ProviderError
from veo31.providers._http import NO_RETRY
from veo31.providers.entry import DoctorCheck, PriceQuery, ProviderEntry, QueueLimits, fleet_limits
from veo31.providers.kie.client import KieClient
from veo31.providers.kie.provider import KIE_CAPABILITIES, KieProvider


def _configured(settings: Settings) -> bool:
    return settings.kie_api_key is not None


def _queue_limits(settings: Settings) -> QueueLimits:
    return fleet_limits(
        settings.kie_concurrency, settings.kie_fleet_concurrency, settings.kie_rate_limit, settings.kie_rate_period
    )


def _estimate(query: PriceQuery, settings: Settings) -> Cost:
    """Kie charges credits per clip: its tier, plus the 1080p / 4K step when asked for at generation."""
    credits = settings.kie_credits.get(query.model_tier, 0.0) + settings.kie_upgrade_credits.get(query.resolution, 0.0)
    return Cost(
        round(credits * settings.kie_credit_usd, 4), f"{credits:g} Kie.ai credits × ${settings.kie_credit_usd:g}"
    )


async def _doctor(settings: Settings) -> DoctorCheck:
    """Kie has no free model listing; its credit balance is free and proves the key and the address."""
    try:
        async with KieClient.from_settings(settings, retry=NO_RETRY) as client:
            balance = await client.credits()
    except (ProviderError, ConfigurationError) as exc:
        return DoctorCheck(False, f"{exc.message} (KIE_BASE_URL={settings.kie_base_url})")
    return DoctorCheck(True, f"reachable at {settings.kie_base_url}, {balance:g} credits left")


ENTRY = ProviderEntry(
    name=KieProvider.name,
    label=KieProvider.label,
    capabilities=KIE_CAPABILITIES,
    factory=KieProvider.from_settings,
    configured=_configured,
    setup_hint="set KIE_API_KEY",
    queue_limits=_queue_limits,
    estimate=_estimate,
    doctor=_doctor,
    account_logs="the Kie.ai logs (https://kie.ai/logs)",
)
