#!/usr/bin/env bash
# The main job on the embedded defaults, no account needed: `veo31 serve` (API + worker) with SQLite and the data
# folder, and — unless KIE_API_KEY is set — the built-in Kie.ai emulator standing in for Kie.ai.
source "$(dirname "$0")/_env.sh"
ensure_venv ""
cd "$ROOT"
if [ -n "${KIE_API_KEY:-}" ]; then
  exec "$VENV/bin/veo31" serve "$@"
fi
exec "$VENV/bin/veo31" serve --emulate "$@"
