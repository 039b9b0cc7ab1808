"""/docs in Chromium with every request off this machine blocked: the API docs render from packaged assets."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Route

from tests.e2e.conftest import Site, screenshot


def test_api_docs_render_with_the_network_cut(context: BrowserContext, site: Site) -> None:
    blocked: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.goto(f"{site.url}/docs")
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=15_000)
    assert page.locator(".swagger-ui .title").first.text_content().startswith("veo31")
    assert page.locator(".opblock-summary-path", has_text="/v1/generations").count() >= 1
    assert blocked == [], "the docs page asked for something off this machine"
    screenshot(page, "api-docs-offline")
