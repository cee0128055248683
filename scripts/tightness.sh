#!/usr/bin/env bash
# Recomputes the bound-tightness tables (median and max of bound/exact per method over seeded random
# networks, then over the fixtures' real networks and degenerate ones) and prints them; paste them
# into BENCHMARKS.md. Takes about twenty minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo run --release --quiet --example tightness
