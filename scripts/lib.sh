# Shared by scripts/demo and scripts/test: a virtualenv with the locked dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

ensure_compiler() {
  # the Metro 2 reader's field loops are a C extension, built when the package is installed
  if ! command -v cc >/dev/null 2>&1 || ! python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq gcc libc6-dev python3-dev >/dev/null
  fi
}

ensure_venv() {
  ensure_compiler
  if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check uv
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    uv venv --quiet --python "$(command -v python3)" "$VENV"
  fi
  VIRTUAL_ENV="$VENV" uv pip sync --quiet "$ROOT/requirements.lock"
  VIRTUAL_ENV="$VENV" uv pip install --quiet --no-deps -e "$ROOT"
}
