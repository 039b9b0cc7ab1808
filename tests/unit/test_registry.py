"""The registry as a tuple of entries: a provider declared in one file (tests/slideshow_provider.py, loaded as a
plugin) is routed to like a built-in one, and settings that name no provider are refused when the server starts."""

from __future__ import annotations

import pytest

from tests.slideshow_provider import PLUGIN
from veo31.config import load_settings
from veo31.domain import GenerationSpec
from veo31.errors import CapabilityError, ConfigurationError, InputError
from veo31.providers.registry import (
    auto_order,
    check_names,
    configured_providers,
    entries,
    estimate,
    label_of,
    provider_overview,
    route,
)


def test_a_plugin_is_routed_to_by_name_and_by_auto() -> None:
    settings = load_settings(provider_plugins=PLUGIN, provider_order="slideshow,local")
    assert [entry.name for entry in entries(settings)] == ["kie", "gemini", "local", "slideshow"]
    assert auto_order(settings) == ["slideshow", "local"] and "slideshow" in configured_providers(settings)
    assert route(GenerationSpec(), 1, settings).provider == "slideshow"
    chosen = route(GenerationSpec(provider="slideshow", mode="first_last"), 2, settings)
    assert (chosen.provider, chosen.mode) == ("slideshow", "first_last")
    with pytest.raises(CapabilityError, match="Test slideshow"):
        route(GenerationSpec(provider="slideshow", duration_seconds=6), 1, settings)  # it makes 4 or 8 s
    assert label_of("slideshow") == "Test slideshow"
    priced = estimate("slideshow", GenerationSpec(duration_seconds=4), settings)
    assert (priced.usd, priced.basis) == (0.04, "a test price: $0.01 a second")


def test_the_overview_lists_a_plugin_with_its_capabilities() -> None:
    overview = {info.name: info for info in provider_overview(load_settings(provider_plugins=PLUGIN))}
    assert overview["slideshow"].available and overview["slideshow"].capabilities.durations == (4, 8)
    assert not overview["kie"].available and "KIE_API_KEY" in (overview["kie"].reason or "")


def test_without_the_plugin_the_provider_does_not_exist() -> None:
    with pytest.raises(InputError, match="'slideshow' does not exist; use auto, kie, gemini or local"):
        route(GenerationSpec(provider="slideshow"), 1, load_settings())


def test_the_default_provider_decides_where_auto_goes() -> None:
    settings = load_settings(default_provider="local", kie_api_key="k", fallback=True)
    assert route(GenerationSpec(), 1, settings).provider == "local"
    assert route(GenerationSpec(provider="kie"), 1, settings).provider == "kie", "a named provider still wins"
    with pytest.raises(CapabilityError):  # the default is a choice: no moving on to Kie when local cannot
        route(GenerationSpec(mode="text"), 0, settings)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"default_provider": "openai"}, "VEO31_DEFAULT_PROVIDER names 'openai'"),
        ({"provider_order": "kie,veo"}, "VEO31_PROVIDER_ORDER names 'veo'"),
        ({"provider_plugins": "tests.no_such_module"}, "VEO31_PROVIDER_PLUGINS names 'tests.no_such_module'"),
        ({"provider_plugins": "tests.conftest"}, "declares no ENTRY"),
    ],
)
def test_settings_naming_no_provider_are_refused_at_start(changes: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        check_names(load_settings(**changes))
