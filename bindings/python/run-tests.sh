#!/usr/bin/env bash
# CI entry of the Python binding: builds it, runs its tests (the shared scenario and the real
# Convergence client against a Python-hosted engine included),
# type-checks the stubs with mypy --strict, builds the abi3 wheel, installs it into a fresh
# venv and runs the FastAPI example from there against a live engine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
example=$root/examples/python-fastapi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-py.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A bare Debian python3 lacks venv/ensurepip: install it when root.
if ! python3 -m venv "$work/probe" >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -q && apt-get install -y -q python3-venv python3-pip
fi

# The real-client tests run the Convergence client (Node) from tests/e2e's package.
[ -d "$root/tests/e2e/node_modules/@convergence/convergence" ] \
  || (cd "$root/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)

# 1. Development venv: build in place, run the tests, type-check.
dev=${TANDEM_PY_VENV:-$work/dev}
[ -x "$dev/bin/python" ] || python3 -m venv "$dev"
pip() { "$1/bin/python" -m pip install -q --disable-pip-version-check "${@:2}"; }
pip "$dev" "maturin>=1.5,<2" pytest "mypy>=1.10" typing_extensions -r "$example/requirements.txt"
(cd "$here" && VIRTUAL_ENV=$dev PATH=$dev/bin:$PATH maturin develop -q)
(cd "$here" && "$dev/bin/python" -m pytest -q -p no:cacheprovider tests)
(cd "$here" && "$dev/bin/python" -m mypy --strict --no-incremental --cache-dir=/dev/null tests/test_typed.py)

# 2. The installable package: an abi3 wheel, installed into a fresh venv with nothing else of
# this tree, runs the example there (a file missing from the wheel fails here).
# The debug profile reuses step 1's build (a release build of the engine added minutes to the
# suite); TANDEM_PY_RELEASE=1 builds the release wheel instead.
"$dev/bin/maturin" build -q ${TANDEM_PY_RELEASE:+--release} -m "$here/Cargo.toml" -o "$work/wheels"
ls "$work"/wheels/tandem-*-abi3-*.whl >/dev/null
fresh=$work/fresh
python3 -m venv "$fresh"
pip "$fresh" "$work"/wheels/tandem-*.whl "mypy>=1.10" -r "$example/requirements.txt"
cp "$example/app.py" "$example/check.py" "$work/"
# mypy finds the installed stubs only if the wheel ships __init__.pyi and py.typed.
(cd "$work" && "$fresh/bin/python" -m mypy --strict --no-incremental --cache-dir=/dev/null app.py check.py)
(cd "$work" && TANDEM_DATA_DIR="$work/data" "$fresh/bin/python" check.py)
echo "python binding: tests, mypy --strict, wheel install and example passed"
