#!/usr/bin/env bash
# The whole test suite: the Rust tests (unit, integration, CLI, doc tests) in release mode (the
# differential tests solve tens of thousands of LPs), then the Python package's tests (pytest,
# its doctests and the quickstart example) against the same build; between them, scripts/lint.sh
# (formatting, clippy, docs, mypy and stubtest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --release "$@"
python=$(bash scripts/python-env.sh | tail -n 1)
bash scripts/lint.sh "$python"
"$python" -m pytest -q python/tests python/regionwalk --doctest-modules
# The Ray cluster tests run in a private network namespace, where only loopback exists: Ray binds
# to the machine's interface address even when told 127.0.0.1, and tests must not reach beyond it.
if [ "${REGIONWALK_NO_RAY:-0}" = 1 ]; then
  echo "test.sh: REGIONWALK_NO_RAY=1: the Ray cluster tests are skipped" >&2
else
  command -v unshare >/dev/null && command -v ip >/dev/null || {
    echo "test.sh: the Ray tests need unshare (util-linux) and ip (iproute2)" >&2
    exit 1
  }
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  timeout 1200 $SUDO unshare -n bash -c "ip link set lo up && '$python' -m pytest -q python/tests_ray"
fi
