"""What the tests that speak to the Google emulator share: its key, a handle on its control routes, and settings
for either of Google's surfaces pointed at it."""

from __future__ import annotations

from typing import Any

import httpx

from veo31.config import load_settings

GOOGLE_KEY = "google-test-key-8d2b6f0c4e1a"


class Emulator:
    def __init__(self, url: str) -> None:
        self.url = url
        self.control = httpx.Client(base_url=url, timeout=30)

    def reset(self) -> None:
        self.control.post("/_emulator/reset").raise_for_status()

    def configure(self, **changes: Any) -> None:
        self.control.post("/_emulator/config", json=changes).raise_for_status()

    def fault(self, kind: str, **fields: Any) -> None:
        self.control.post("/_emulator/faults", json={"kind": kind, **fields}).raise_for_status()

    def state(self) -> dict[str, Any]:
        return self.control.get("/_emulator/state").json()

    def calls(self, name: str) -> int:
        return int(self.state()["calls"].get(name, 0))


def settings_for(surface: str, url: str, key: str = GOOGLE_KEY, **extra: Any) -> Any:
    if surface == "vertex":
        return load_settings(google_genai_use_vertexai=True, google_api_key=key, vertex_base_url=url, **extra)
    return load_settings(gemini_api_key=key, gemini_base_url=url, **extra)
