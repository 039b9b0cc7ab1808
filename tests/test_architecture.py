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
