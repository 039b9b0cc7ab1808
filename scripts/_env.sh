# Shared by scripts/start.sh and scripts/test.sh: a Python 3.11 virtual environment in .venv with veo31 in it.
# Works on a fresh Debian machine: installs python3-venv with apt when the venv module is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VEO31_VENV:-$ROOT/.venv}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  # apt-get update first: on a fresh machine the package lists are empty or stale.
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

pick_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "veo31 needs Python 3.11 (Debian 12: apt-get install python3)" >&2
  return 1
}

ensure_venv() {
  local extra="$1" python
  python="$(pick_python)"
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      apt_install python3-venv
      "$python" -m venv "$VENV"
    fi
  fi
  # Some machines' pip configuration points at local mirrors and warns about each one it skips: hide that noise,
  # keep pip's exit status.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$extra" 2>&1 | { grep -v "is ignored" || true; }
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "pip could not install veo31$extra" >&2; return 1; }
}

ensure_chromium() {
  # The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
  if [ ! -x "${VEO31_CHROMIUM:-/usr/bin/chromium}" ]; then
    apt_install chromium fonts-liberation
  fi
}

ensure_postgres() {
  # VEO31_TEST_DATABASE=postgresql: the tests start a throwaway cluster of their own with Debian's initdb/pg_ctl.
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
  fi
}
