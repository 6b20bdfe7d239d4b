# Shared by scripts/demo and scripts/test: a virtualenv with the locked dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

ensure_venv() {
  if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check uv
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    uv venv --quiet --python "$(command -v python3)" "$VENV"
  fi
  VIRTUAL_ENV="$VENV" uv pip sync --quiet "$ROOT/requirements.lock"
  VIRTUAL_ENV="$VENV" uv pip install --quiet --no-deps -e "$ROOT"
}
