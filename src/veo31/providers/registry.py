"""The providers this server knows (a tuple of entries), which one `auto` means, and where a generation goes
next when one refuses.

`auto` takes the first configured provider in `VEO31_PROVIDER_ORDER` (default kie, gemini, local); a provider
asked for by name must be configured. With `VEO31_FALLBACK=true` an `auto` generation skips a provider that cannot
make the request (its capabilities), and — in the pipeline — moves on from one that refused *before any task
could exist* (see `moves_on`). A provider named by the person is never swapped for another.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass

from veo31.config import Settings
from veo31.domain import Capabilities, Cost, GenerationSpec, check_capabilities
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
from veo31.providers.entry import PriceQuery, ProviderEntry
from veo31.providers.gemini import ENTRY as GEMINI
from veo31.providers.kie import ENTRY as KIE
from veo31.providers.local import ENTRY as LOCAL

BUILT_IN: tuple[ProviderEntry, ...] = (KIE, GEMINI, LOCAL)
_LOADED: dict[str, ProviderEntry] = {}  # plugins' entries by name, as they were loaded


@functools.cache
def _known(modules: tuple[str, ...]) -> tuple[ProviderEntry, ...]:
    """The built-in entries and the plugins' (imported and checked once per list of modules: every request routes)."""
    found = list(BUILT_IN)
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ConfigurationError(
                f"VEO31_PROVIDER_PLUGINS names {module_name!r}, which cannot be imported ({error})"
            ) from None
        declared = getattr(module, "ENTRY", None)
        if not isinstance(declared, ProviderEntry):
            raise ConfigurationError(f"VEO31_PROVIDER_PLUGINS: {module_name!r} declares no ENTRY = ProviderEntry(...)")
        if declared.name == "auto" or any(candidate.name == declared.name for candidate in found):
            raise ConfigurationError(f"VEO31_PROVIDER_PLUGINS: the provider name {declared.name!r} is taken")
        found.append(declared)
        _LOADED[declared.name] = declared
    return tuple(found)


def entries(settings: Settings) -> tuple[ProviderEntry, ...]:
    """Every provider this server knows: the built-in ones, then those of `VEO31_PROVIDER_PLUGINS`."""
    return _known(tuple(settings.provider_plugins))


def entry(name: str, settings: Settings) -> ProviderEntry:
    for candidate in entries(settings):
        if candidate.name == name:
            return candidate
    raise InputError(f"provider {name!r} does not exist; use {_choices(settings)}", field="provider")


def known(name: str | None) -> ProviderEntry | None:
    """The entry of a provider by name, among the built-in ones and every plugin loaded in this process (a stored
    generation names its provider; reading it needs no settings)."""
    for candidate in BUILT_IN:
        if candidate.name == name:
            return candidate
    return _LOADED.get(name or "")


def label_of(name: str | None) -> str | None:
    """A provider's name as people read it; None for no provider or one this process does not know."""
    found = known(name)
    return found.label if found else None


def _choices(settings: Settings) -> str:
    names = ["auto", *(candidate.name for candidate in entries(settings))]
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def is_configured(name: str, settings: Settings) -> bool:
    return any(candidate.name == name and candidate.configured(settings) for candidate in entries(settings))


def configured_providers(settings: Settings) -> list[str]:
    """Every provider this server can use (a client is built for each), in the order `auto` tries them."""
    order = [name for name in settings.provider_order if is_configured(name, settings)]
    rest = [candidate.name for candidate in entries(settings) if candidate.configured(settings)]
    return order + [name for name in rest if name not in order]


def auto_order(settings: Settings) -> list[str]:
    """The providers `auto` may choose: configured, and named in `VEO31_PROVIDER_ORDER`."""
    return [name for name in settings.provider_order if is_configured(name, settings)]


@dataclass(frozen=True)
class Route:
    provider: str
    mode: str
    notes: tuple[str, ...] = ()  # why providers before it were passed over


def requested_provider(asked: str, settings: Settings) -> str:
    """What a request asks for: its own choice, or `VEO31_DEFAULT_PROVIDER` when it left the choice to `auto`."""
    return settings.default_provider if asked == "auto" else asked


def choose_provider(asked: str, settings: Settings) -> str:
    """The provider a request goes to: `auto` → the first configured one; a name → that one, if configured."""
    requested = requested_provider(asked, settings)
    if requested == "auto":
        candidates = auto_order(settings)
        if not candidates:
            raise ConfigurationError(
                "no video provider is configured: set KIE_API_KEY or GEMINI_API_KEY, unset VEO31_LOCAL_DISABLED for "
                "the local renderer, or run `veo31 serve --emulate` to use the built-in Kie.ai emulator"
                + ("" if settings.provider_order else " (VEO31_PROVIDER_ORDER is empty)")
            )
        return candidates[0]
    chosen = entry(requested, settings)
    if not chosen.configured(settings):
        raise InputError(f"{chosen.label} is not configured on this server: {chosen.setup_hint}", field="provider")
    return requested


def route(spec: GenerationSpec, image_count: int, settings: Settings) -> Route:
    """Where a new generation goes, checked against that provider's capabilities. With fallback, `auto` passes
    over providers that cannot make it and says why; otherwise the first choice's refusal stands."""
    first = entry(choose_provider(spec.provider, settings), settings)
    if requested_provider(spec.provider, settings) != "auto" or not settings.fallback:
        return Route(first.name, _mode(spec, image_count, first))
    notes: list[str] = []
    refusal: CapabilityError | None = None
    for name in auto_order(settings):
        candidate = entry(name, settings)
        try:
            return Route(name, _mode(spec, image_count, candidate), tuple(notes))
        except CapabilityError as error:
            refusal = refusal or error
            notes.append(f"{candidate.label} left: {error.message}")
    assert refusal is not None
    raise refusal


def next_provider(spec: GenerationSpec, image_count: int, after: str, settings: Settings) -> Route | None:
    """The provider after `after` in the auto order that can make this generation, or None."""
    names = auto_order(settings)
    later = names[names.index(after) + 1 :] if after in names else []
    for name in later:
        try:
            return Route(name, _mode(spec, image_count, entry(name, settings)))
        except CapabilityError:
            continue
    return None


def _mode(spec: GenerationSpec, image_count: int, candidate: ProviderEntry) -> str:
    return check_capabilities(spec, image_count, candidate.capabilities, candidate.label)


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
    for candidate in entries(settings):
        reason = None
        if not candidate.configured(settings):
            reason = f"{candidate.label} is not configured on this server: {candidate.setup_hint}"
        overview.append(ProviderInfo(candidate.name, candidate.label, reason is None, reason, candidate.capabilities))
    return overview


def check_names(settings: Settings) -> None:
    """At start-up: every provider a setting names must exist (a typo would otherwise surface per request)."""
    names_known = {candidate.name for candidate in entries(settings)}
    for setting, names in (
        ("VEO31_PROVIDER_ORDER", settings.provider_order),
        ("VEO31_DEFAULT_PROVIDER", [settings.default_provider]),
    ):
        for name in names:
            if name != "auto" and name not in names_known:
                raise ConfigurationError(f"{setting} names {name!r}, which is no provider; use {_choices(settings)}")


def build_providers(settings: Settings) -> dict[str, Provider]:
    """One client (with its connection pool) per configured provider, for the life of the process."""
    check_names(settings)
    return {name: entry(name, settings).factory(settings) for name in configured_providers(settings)}


def estimate(provider: str, spec: GenerationSpec, settings: Settings) -> Cost:
    """What a generation like `spec` would cost at `provider`, at list price."""
    query = PriceQuery(spec.model_tier, spec.duration_seconds, spec.resolution)
    return entry(provider, settings).estimate(query, settings)
