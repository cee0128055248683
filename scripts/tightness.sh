#!/usr/bin/env bash
# Recomputes the bound-tightness table (median and max of bound/exact per method over a fixed
# benchmark set) and prints it; paste it into BENCHMARKS.md. Takes about ten minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo run --release --quiet --example tightness
