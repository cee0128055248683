#!/usr/bin/env bash
# The whole test suite: the Rust tests (unit, integration, CLI, doc tests) in release mode (the
# differential tests solve tens of thousands of LPs), then the Python package's tests (pytest,
# its doctests and the quickstart example) against the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --release "$@"
python=$(bash scripts/python-env.sh | tail -n 1)
"$python" -m pytest -q python/tests python/regionwalk --doctest-modules
