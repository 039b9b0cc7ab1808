#!/usr/bin/env bash
# The main job on the embedded defaults, no account needed. Today that is the Kie.ai emulator on port 8100;
# when the pipeline lands it becomes `veo31 serve` (API + worker + page) and this script keeps its name.
source "$(dirname "$0")/_env.sh"
ensure_venv ""
cd "$ROOT"
exec "$VENV/bin/veo31" emulate kie --port "${VEO31_EMULATOR_PORT:-8100}" "$@"
