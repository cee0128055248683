#!/usr/bin/env bash
# The whole test suite (unit, integration, CLI and doc tests), in release mode: the differential
# tests solve tens of thousands of LPs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --release "$@"
