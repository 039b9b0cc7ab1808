"""Providers by name, which one `auto` means, and where a generation goes next when one refuses.

`auto` takes the first configured provider in `VEO31_PROVIDER_ORDER` (default kie, gemini, local); a provider
asked for by name must be configured. With `VEO31_FALLBACK=true` an `auto` generation skips a provider that cannot
make the request (its capabilities), and — in the pipeline — moves on from one that refused *before any task
could exist* (see `moves_on`). A provider named by the person is never swapped for another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from veo31.config import Settings
from veo31.domain import Capabilities, GenerationSpec, check_capabilities
from veo31.errors import (
    AuthenticationError,
    CapabilityError,
    ConfigurationError,
    InputError,
    InsufficientCreditsError,
    ModelUnavailableError,
    RateLimitedError,
    UnavailableError,
    Veo31Error,
)
from veo31.providers.base import Provider
from veo31.providers.gemini import GeminiProvider
from veo31.providers.gemini_ops import GEMINI_CAPABILITIES
from veo31.providers.kie_provider import KIE_CAPABILITIES, KieProvider
from veo31.providers.local import LOCAL_CAPABILITIES, LocalProvider

ProviderFactory = Callable[[Settings], Provider]

PROVIDERS: dict[str, ProviderFactory] = {
    "kie": KieProvider.from_settings,
    "gemini": GeminiProvider.from_settings,
    "local": LocalProvider.from_settings,
}
CAPABILITIES: dict[str, Capabilities] = {
    "kie": KIE_CAPABILITIES,
    "gemini": GEMINI_CAPABILITIES,
    "local": LOCAL_CAPABILITIES,
}
LABELS = {"kie": "Kie.ai", "gemini": "Google", "local": "Local renderer"}
SETUP_HINTS = {
    "kie": "set KIE_API_KEY",
    "gemini": "set GEMINI_API_KEY, or GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_API_KEY or GOOGLE_CLOUD_PROJECT",
    "local": "unset VEO31_LOCAL_DISABLED",
}
ORDER = ("kie", "gemini", "local")


def is_configured(name: str, settings: Settings) -> bool:
    if name == "kie":
        return settings.kie_api_key is not None
    if name == "gemini":
        return settings.google_surface is not None
    if name == "local":
        return not settings.local_disabled
    return False


def configured_providers(settings: Settings) -> list[str]:
    """Every provider this server can use (a client is built for each), in the order `auto` tries them."""
    order = [name for name in settings.provider_order if name in PROVIDERS]
    order += [name for name in ORDER if name not in order]
    return [name for name in order if is_configured(name, settings)]


def auto_order(settings: Settings) -> list[str]:
    """The providers `auto` may choose: configured, and named in `VEO31_PROVIDER_ORDER`."""
    return [name for name in settings.provider_order if name in PROVIDERS and is_configured(name, settings)]


@dataclass(frozen=True)
class Route:
    provider: str
    mode: str
    notes: tuple[str, ...] = ()  # why providers before it were passed over


def choose_provider(requested: str, settings: Settings) -> str:
    """The provider a request goes to: `auto` → the first configured one; a name → that one, if configured."""
    if requested == "auto":
        candidates = auto_order(settings)
        if not candidates:
            raise ConfigurationError(
                "no video provider is configured: set KIE_API_KEY or GEMINI_API_KEY, unset VEO31_LOCAL_DISABLED for "
                "the local renderer, or run `veo31 serve --emulate` to use the built-in Kie.ai emulator"
                + ("" if settings.provider_order else " (VEO31_PROVIDER_ORDER is empty)")
            )
        return candidates[0]
    if requested not in PROVIDERS:
        raise InputError(f"provider {requested!r} does not exist; use auto, kie, gemini or local", field="provider")
    if not is_configured(requested, settings):
        raise InputError(
            f"{LABELS[requested]} is not configured on this server: {SETUP_HINTS[requested]}", field="provider"
        )
    return requested


def route(spec: GenerationSpec, image_count: int, settings: Settings) -> Route:
    """Where a new generation goes, checked against that provider's capabilities. With fallback, `auto` passes
    over providers that cannot make it and says why; otherwise the first choice's refusal stands."""
    first = choose_provider(spec.provider, settings)
    if spec.provider != "auto" or not settings.fallback:
        return Route(first, check_capabilities(spec, image_count, CAPABILITIES[first], LABELS[first]))
    notes: list[str] = []
    refusal: CapabilityError | None = None
    for name in auto_order(settings):
        try:
            return Route(name, check_capabilities(spec, image_count, CAPABILITIES[name], LABELS[name]), tuple(notes))
        except CapabilityError as error:
            refusal = refusal or error
            notes.append(f"{LABELS[name]} left: {error.message}")
    assert refusal is not None
    raise refusal


def next_provider(spec: GenerationSpec, image_count: int, after: str, settings: Settings) -> Route | None:
    """The provider after `after` in the auto order that can make this generation, or None."""
    names = auto_order(settings)
    later = names[names.index(after) + 1 :] if after in names else []
    for name in later:
        try:
            return Route(name, check_capabilities(spec, image_count, CAPABILITIES[name], LABELS[name]))
        except CapabilityError:
            continue
    return None


def moves_on(error: Veo31Error) -> bool:
    """May a generation leave for the next provider after this refusal? Only when the provider said no before any
    task could exist — bad key, no credits, maintenance, a retired model, a request it cannot make, a day's quota
    spent. Never after a submission that may have created (and charged) a task."""
    if getattr(error, "task_may_exist", False):
        return False
    if isinstance(error, RateLimitedError):
        return not error.retryable
    return isinstance(
        error,
        AuthenticationError | InsufficientCreditsError | UnavailableError | ModelUnavailableError | CapabilityError,
    )


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
        if not is_configured(name, settings):
            reason = f"{LABELS[name]} is not configured on this server: {SETUP_HINTS[name]}"
        overview.append(ProviderInfo(name, LABELS[name], reason is None, reason, CAPABILITIES.get(name)))
    return overview


def build_providers(settings: Settings) -> dict[str, Provider]:
    """One client (with its connection pool) per configured provider, for the life of the process."""
    return {name: PROVIDERS[name](settings) for name in configured_providers(settings)}
