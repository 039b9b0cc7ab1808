"""The deployment page lists every setting veo31 reads: a new setting without a line there fails here."""

from __future__ import annotations

import re
from pathlib import Path

from veo31.config import Settings, _env_name

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


def test_every_setting_is_in_the_deployment_page() -> None:
    table = DOC.read_text(encoding="utf-8").split("## Every setting", 1)[1]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    names = {_env_name(field) for field in Settings.model_fields}
    assert names - documented == set(), "settings missing from docs/deployment.md"
    assert documented - names == set(), "docs/deployment.md lists settings veo31 does not read"
