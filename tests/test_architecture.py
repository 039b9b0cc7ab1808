"""Imports point downward as ARCHITECTURE.md draws them (import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is part of the dev extra"
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_importing_the_package_starts_nothing() -> None:
    code = "import sys, veo31; print(sorted(name for name in sys.modules if name.startswith('veo31')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['veo31']"


def test_every_room_below_the_pipeline_is_under_contract() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("Nothing below")]
    package = ROOT / "src" / "veo31"
    rooms = {path.stem for path in package.iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()}
    above = {"__init__", "__main__", "cli", "api", "pipeline", "web"}
    assert {f"veo31.{room}" for room in rooms - above} <= set(contract["source_modules"])


def test_every_pipeline_module_is_in_the_pipelines_own_layers() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("Inside the pipeline")]
    layered = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    folder = ROOT / "src" / "veo31" / "pipeline"
    modules = {f"veo31.pipeline.{path.stem}" for path in folder.glob("*.py")}
    modules |= {f"veo31.pipeline.{path.parent.name}" for path in folder.glob("*/__init__.py")}
    assert modules - {"veo31.pipeline.__init__"} <= layered


def test_no_module_outgrows_one_concern() -> None:
    """A module is named for what it owns; one that grows past ~400 lines owns more than one thing: split it."""
    limit = 420
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "src" / "veo31").rglob("*.py")
    }
    assert {path: lines for path, lines in sizes.items() if lines > limit} == {}


def test_every_provider_is_an_entry_with_no_table_beside_it() -> None:
    """Adding a provider is one package declaring an entry: no per-name table elsewhere names the built-in ones."""
    names = ("kie", "gemini", "local")
    for path in (ROOT / "src" / "veo31").rglob("*.py"):
        relative = path.relative_to(ROOT / "src" / "veo31")
        if relative.parts[0] in ("providers", "emulators", "store") or relative.name in ("config.py", "compat.py"):
            # the providers themselves, their emulators, migrations, the default order setting, and the old routes'
            # frozen wire names ("kie.ai", "google"): what the old system called them, not what they are
            continue
        text = path.read_text(encoding="utf-8")
        for name in names:
            assert f'"{name}":' not in text, f"{relative} keys something by the provider name {name!r}"
