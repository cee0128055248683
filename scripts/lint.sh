#!/usr/bin/env bash
# The checks beside the tests, run by scripts/test.sh after the Rust tests (so that clippy and the
# docs reuse the release build's dependencies): formatting, clippy with warnings denied, the API
# docs with warnings denied, and, given the package's virtual environment (its python as $1), a
# type check of the Python package and of its native stubs against the built extension.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --release --workspace --all-targets --quiet -- -D warnings
# The docs include private items (they document the engine for its developers), so links to them
# resolve; any other rustdoc warning (a broken link, bad markup) fails.
RUSTDOCFLAGS="-D warnings -A rustdoc::private-intra-doc-links" \
  cargo doc --release --workspace --no-deps --document-private-items --quiet
if [ $# -ge 1 ]; then
  python=$1
  (cd python && "../$python" -m mypy --config-file pyproject.toml regionwalk)
  "$python" -m mypy.stubtest regionwalk._native --concise --allowlist python/stubtest-allowlist.txt
fi
echo "lint: formatting, clippy, docs${1:+, mypy and stubtest} clean"
