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

say() {
  printf '==> %s\n' "$*" >&2
}

took() {
  # How long the step since $1 (a $SECONDS reading) took.
  printf '    done in %d s\n' $((SECONDS - $1)) >&2
}

ensure_venv() {
  local extra="$1" python started stamp wanted
  python="$(pick_python)"
  if [ ! -x "$VENV/bin/python" ]; then
    started=$SECONDS
    say "Creating a Python 3.11 environment in $VENV (first run only)"
    if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      say "Installing python3-venv with apt (this machine lacks it)"
      apt_install python3-venv
      "$python" -m venv "$VENV"
    fi
    took "$started"
  fi
  # Installed already for this pyproject.toml and extra: nothing to do (a restart starts at once).
  stamp="$VENV/.veo31-installed${extra}"
  wanted="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    return 0
  fi
  started=$SECONDS
  say "Installing veo31${extra} and its dependencies into $VENV (the first time takes a minute or two)"
  # Some machines' pip configuration points at local mirrors and warns about each one it skips: hide that noise,
  # keep pip's exit status.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$extra" 2>&1 | { grep -v "is ignored" || true; }
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "pip could not install veo31$extra" >&2; return 1; }
  echo "$wanted" > "$stamp"
  took "$started"
}

ensure_chromium() {
  # The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
  if [ ! -x "${VEO31_CHROMIUM:-/usr/bin/chromium}" ]; then
    local started=$SECONDS
    say "Installing Debian's Chromium for the browser tests"
    apt_install chromium fonts-liberation
    took "$started"
  fi
}

ensure_postgres() {
  # VEO31_TEST_DATABASE=postgresql: the tests start a throwaway cluster of their own with Debian's initdb/pg_ctl.
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    local started=$SECONDS
    say "Installing Debian's PostgreSQL for the tests on PostgreSQL"
    apt_install postgresql
    took "$started"
  fi
}
