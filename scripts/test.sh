#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: lint, import contracts, unit, contract, CLI, integration
# and browser tests (Debian's Chromium, installed here when missing) — on SQLite, then again on a throwaway
# PostgreSQL cluster the tests start themselves (Debian's postgresql package, installed here when missing).
# VEO31_TEST_DATABASE=sqlite or =postgresql runs it on one of them only. Arguments go to pytest.
source "$(dirname "$0")/_env.sh"
ensure_venv "[dev]"
ensure_chromium
databases="${VEO31_TEST_DATABASE:-sqlite postgresql}"
case " $databases " in *" postgresql "*) ensure_postgres ;; esac
cd "$ROOT"
"$VENV/bin/ruff" check src tests bench
"$VENV/bin/ruff" format --check src tests bench
status=0
for database in $databases; do
  echo "== the whole suite on $database"
  VEO31_TEST_DATABASE="$database" "$VENV/bin/python" -m pytest "$@" || status=$?
done
exit "$status"
