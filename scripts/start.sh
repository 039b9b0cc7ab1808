#!/usr/bin/env bash
# The main job on the embedded defaults, no account needed: `veo31 serve` (the page, the API and the worker) with
# SQLite and the data folder. With no provider key set, videos are made by the built-in local renderer; add
# `--emulate` to use the built-in Kie.ai emulator instead, or set KIE_API_KEY for Kie.ai itself. Other options go
# to `veo31 serve` (`--port 8080`; `.venv/bin/veo31 serve --help` lists them).
source "$(dirname "$0")/_env.sh"
ensure_venv ""
cd "$ROOT"
say "Starting veo31 (Ctrl+C stops it; the veo31 command is $VENV/bin/veo31)"
exec "$VENV/bin/veo31" serve "$@"
