#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: lint, import contracts, unit, contract, CLI, integration
# and browser tests (Debian's Chromium, installed here when missing).
source "$(dirname "$0")/_env.sh"
ensure_venv "[dev]"
ensure_chromium
cd "$ROOT"
"$VENV/bin/ruff" check src tests bench
"$VENV/bin/ruff" format --check src tests bench
exec "$VENV/bin/python" -m pytest "$@"
