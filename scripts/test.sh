#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: lint, import contracts, unit, contract, CLI, integration
# and browser tests (Debian's Chromium, installed here when missing). VEO31_TEST_DATABASE=postgresql runs it all on
# a throwaway PostgreSQL cluster (Debian's postgresql package, installed here when missing) instead of SQLite.
source "$(dirname "$0")/_env.sh"
ensure_venv "[dev]"
ensure_chromium
if [ "${VEO31_TEST_DATABASE:-sqlite}" = postgresql ]; then ensure_postgres; fi
cd "$ROOT"
"$VENV/bin/ruff" check src tests bench
"$VENV/bin/ruff" format --check src tests bench
exec "$VENV/bin/python" -m pytest "$@"
