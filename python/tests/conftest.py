"""Shared helpers: the repository's fixtures, the CLI built from the same sources, random nets."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import regionwalk as rw

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


def cli_path() -> Path:
    path = Path(os.environ.get("REGIONWALK_BIN", ROOT / "target" / "release" / "regionwalk"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build the CLI first (cargo build --release)")
    return path


def run_cli(*args: str, expect: int = 0) -> subprocess.CompletedProcess:
    """Runs the CLI; fails the test unless it exits with `expect`."""
    p = subprocess.run([str(cli_path()), *args], capture_output=True, text=True, timeout=600)
    assert p.returncode == expect, f"exit {p.returncode}: {p.stderr}"
    return p


def cli_json(*args: str, expect: int = 0) -> dict:
    return json.loads(run_cli(*args, "--json", expect=expect).stdout)


def random_net(rng: np.random.Generator, widths, degenerate: bool = False) -> rw.Network:
    """A random ReLU net; `degenerate` adds repeated and proportional neurons, zero rows and
    neurons through the origin, which is where off-by-one counts hide."""
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        w = rng.standard_normal((n_out, n_in))
        b = rng.standard_normal(n_out) * 0.3
        if degenerate and n_out >= 4:
            w[1] = w[0] * 2.0
            b[1] = b[0] * 2.0
            w[2] = 0.0
            b[3] = 0.0
        layers.append((w, b))
    return rw.Network.from_layers(layers)


def point_arg(x) -> str:
    return "--center=" + ",".join(repr(float(v)) for v in x)


def without_time(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "seconds"}


def meets_with_margin(rows, rhs, lower, upper) -> bool:
    """Whether the open box holds a point with every ``row[:-1]·x + row[-1]·t ≤ rhs`` for some
    margin ``t > 0``: an LP maximising ``t`` (scipy's HiGHS; ``t`` capped by the box's size)."""
    from scipy import optimize

    if not rows:
        return True
    scale = float(np.abs(np.asarray(upper) - np.asarray(lower)).max())
    bounds = [(lo, hi) for lo, hi in zip(lower, upper)] + [(None, scale)]
    c = np.zeros(len(lower) + 1)
    c[-1] = -1.0
    res = optimize.linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    return res.status == 0 and -res.fun > 1e-9 * scale


def count_leaves(branches, feasible) -> int:
    """Leaves of a depth-first search over choice lists: ``branches(choices)`` gives the options
    of the next unit (none at a leaf), and a child is kept if ``feasible(child)``."""
    count, stack = 0, [[]]
    while stack:
        choices = stack.pop()
        options = branches(choices)
        if not options:
            count += 1
        stack.extend(choices + [c] for c in options if feasible(choices + [c]))
    return count
