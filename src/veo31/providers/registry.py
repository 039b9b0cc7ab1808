"""Providers by name, and which one `auto` means. Built-in providers come in through the same door as any other.

`auto` takes the first configured provider in this order; a provider asked for by name must be configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from veo31.config import Settings
from veo31.domain import Capabilities, ConfigurationError, InputError
from veo31.providers.base import Provider
from veo31.providers.kie_provider import KIE_CAPABILITIES, KieProvider
from veo31.providers.local import LOCAL_CAPABILITIES, LocalProvider

ProviderFactory = Callable[[Settings], Provider]

PROVIDERS: dict[str, ProviderFactory] = {"kie": KieProvider.from_settings, "local": LocalProvider.from_settings}
CAPABILITIES: dict[str, Capabilities] = {"kie": KIE_CAPABILITIES, "local": LOCAL_CAPABILITIES}
LABELS = {"kie": "Kie.ai", "gemini": "Google", "local": "Local renderer"}
SETUP_HINTS = {"kie": "set KIE_API_KEY", "gemini": "set GEMINI_API_KEY", "local": "unset VEO31_LOCAL_DISABLED"}
ORDER = ("kie", "gemini", "local")


def is_configured(name: str, settings: Settings) -> bool:
    if name == "kie":
        return settings.kie_api_key is not None
    if name == "local":
        return not settings.local_disabled
    return False


def configured_providers(settings: Settings) -> list[str]:
    return [name for name in ORDER if name in PROVIDERS and is_configured(name, settings)]


def choose_provider(requested: str, settings: Settings) -> str:
    """The provider a request goes to: `auto` → the first configured one; a name → that one, if configured."""
    if requested == "auto":
        configured = configured_providers(settings)
        if not configured:
            raise ConfigurationError(
                "no video provider is configured: set KIE_API_KEY, unset VEO31_LOCAL_DISABLED for the local "
                "renderer, or run `veo31 serve --emulate` to use the built-in Kie.ai emulator"
            )
        return configured[0]
    if requested not in PROVIDERS:
        raise InputError(
            f"provider {requested!r} is not available in this version; use auto, kie or local", field="provider"
        )
    if not is_configured(requested, settings):
        raise InputError(
            f"{LABELS[requested]} is not configured on this server: {SETUP_HINTS[requested]}", field="provider"
        )
    return requested


@dataclass(frozen=True)
class ProviderInfo:
    """One provider as a person choosing between them sees it: can it be used here, and if not, why."""

    name: str
    label: str
    available: bool
    reason: str | None
    capabilities: Capabilities | None


def provider_overview(settings: Settings) -> list[ProviderInfo]:
    overview = []
    for name in ORDER:
        reason = None
        if name not in PROVIDERS:
            reason = f"{LABELS[name]} is not part of this version of veo31 yet"
        elif not is_configured(name, settings):
            reason = f"{LABELS[name]} is not configured on this server: {SETUP_HINTS[name]}"
        overview.append(ProviderInfo(name, LABELS[name], reason is None, reason, CAPABILITIES.get(name)))
    return overview


def build_providers(settings: Settings) -> dict[str, Provider]:
    """One client (with its connection pool) per configured provider, for the life of the process."""
    return {name: PROVIDERS[name](settings) for name in configured_providers(settings)}
