#!/usr/bin/env bash
# Main job on the bundled example: exact count of the regions of a 2-16-16-2 ReLU network inside
# an L2 ball, the same with JSON output, and the picture shown in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --quiet
./target/release/regionwalk count fixtures/examples/mlp_2x16x16.json --center=0.1,-0.2 --radius 0.5
./target/release/regionwalk count fixtures/examples/mlp_2x16x16.json --center=0.1,-0.2 --radius 0.5 --norm linf --json
./target/release/regionwalk plot fixtures/examples/mlp_2x16x16.json --center=0.1,-0.2 --radius 0.5 --out docs/img/example_slice.png
