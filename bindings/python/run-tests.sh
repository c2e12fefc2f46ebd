#!/usr/bin/env bash
# Builds the Python package with maturin into a private virtualenv and runs its pytest suite.
set -euo pipefail
cd "$(dirname "$0")"
venv=${TANDEM_PY_VENV:-$PWD/.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.5,<2" pytest
# shellcheck disable=SC1091
. "$venv/bin/activate"
maturin develop -q
python -m pytest -q tests
