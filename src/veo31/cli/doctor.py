"""`veo31 doctor`: settings, the data folder, the database, the encoder and every provider (its entry's own check),
each with what to fix."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from rich.table import Table

from veo31.cli import app, fail, out, settings_or_exit
from veo31.config import Settings
from veo31.media.render import encoder_problem
from veo31.providers.registry import auto_order, configured_providers, entries, label_of
from veo31.store.db import database_check


@app.command()
def doctor() -> None:
    """Check settings, the data folder and each configured provider, and say what to fix."""
    settings = settings_or_exit()
    table = Table(title="veo31 doctor", show_lines=False)
    table.add_column("check")
    table.add_column("result")
    problems = 0
    for name, ok, detail in _checks(settings):
        table.add_row(name, f"[green]ok[/] {detail}" if ok else f"[red]problem[/] {detail}")
        problems += 0 if ok else 1
    out.print(table)
    if problems:
        raise fail(f"{problems} check(s) need attention", 1)


def _checks(settings: Settings) -> list[tuple[str, bool, str]]:

    results = [("settings", True, f"loaded (host {settings.host}:{settings.port})")]
    results.append(_check_data_dir(settings.data_dir))
    problem = database_check(settings.resolved_database_url)
    where = settings.resolved_database_url.split("@")[-1]  # never the password of a postgresql://user:pass@host URL
    results.append(("database", problem is None, problem or f"answers ({where})"))
    problem = encoder_problem()
    results.append(("encoder", problem is None, problem or "H.264 + AAC encode and decode work"))
    configured, auto = configured_providers(settings), auto_order(settings)
    if not configured:
        results.append(("providers", False, "none configured: set KIE_API_KEY, or unset VEO31_LOCAL_DISABLED"))
    elif not auto:
        results.append(("providers", False, "auto has nothing to choose: VEO31_PROVIDER_ORDER names none configured"))
    else:
        fallback = "; fallback on" if settings.fallback else ""
        results.append(
            ("providers", True, f"auto uses {label_of(auto[0])}; configured: {', '.join(configured)}{fallback}")
        )
    for entry in entries(settings):
        if entry.configured(settings):
            check = asyncio.run(entry.doctor(settings))
            results.append((entry.label, check.ok, check.detail))
        else:
            results.append((entry.label, True, f"not configured — {entry.setup_hint} to use {entry.label}"))
    if settings.budget_limit is not None:
        results.append(("budget", True, f"new submits stop at ${settings.budget_limit:.2f} (VEO31_BUDGET_LIMIT)"))
    return results


def _check_data_dir(folder: Path) -> tuple[str, bool, str]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return ("data folder", False, f"{folder} is not writable ({exc.strerror}); set VEO31_DATA_DIR")
    return ("data folder", True, f"{os.path.abspath(folder)} is writable")
