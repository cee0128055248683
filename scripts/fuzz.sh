#!/usr/bin/env bash
# Short fuzzing run of every parser (JSON, .nnet, ONNX, vnnlib) with cargo-fuzz (libFuzzer).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60). Crashes land in fuzz/artifacts/;
# turn each into a regression case in tests/robustness.rs.
# cargo-fuzz needs nightly features; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
seconds="${1:-60}"
export RUSTC_BOOTSTRAP=1
for target in json nnet onnx vnnlib; do
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  case $target in
    json) cp fixtures/examples/*.json "$corpus/" ;;
    nnet) cp fixtures/small/marabou/*.nnet "$corpus/" ;;
    onnx) cp fixtures/small/marabou/*.onnx fixtures/small/vnncomp_test/*.onnx "$corpus/" ;;
    vnnlib) cp fixtures/*/vnnlib/*.vnnlib fixtures/small/*/*.vnnlib "$corpus/" ;;
  esac
  cargo fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
echo "fuzzing finished without crashes"
