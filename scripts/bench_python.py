"""Python against the CLI, side by side in one run (issue 13's targets):
  1. call overhead on walks of about 10^3 regions: `rw.count` (model loading included) against the
     `regionwalk count` process, one thread each;
  2. an audit of 1,000 points: `rw.audit` against `regionwalk audit`, same threads.
Alternating runs, medians. Run with the package's venv after `bash scripts/python-env.sh`:
  target/py-venv/bin/python scripts/bench_python.py [--runs 5] [--write]
(--write puts the table into BENCHMARKS.md)."""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import regionwalk as rw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks_md import ROOT, machine, write_block  # noqa: E402

CLI = ROOT / "target" / "release" / "regionwalk"
CARTPOLE = ROOT / "fixtures" / "small" / "vnncomp22_rl" / "cartpole.onnx"
ACAS = ROOT / "fixtures" / "acasxu" / "onnx" / "ACASXU_run2a_1_1_batch_2000.onnx"

WALKS = [
    ("cartpole 4-64-64, L2 r = 0.25", CARTPOLE, [0.0, 0.0, 0.0, 0.0], 0.25, "l2"),
    ("ACAS Xu 1_1, L-inf r = 0.03", ACAS, [0.1, 0.0, 0.0, 0.1, 0.1], 0.03, "linf"),
]


def timed(f):
    t = time.perf_counter()
    value = f()
    return time.perf_counter() - t, value


def cli_count(model, center, radius, norm):
    args = [str(CLI), "--threads", "1", "count", str(model), "--center=" + ",".join(map(repr, center)),
            "--radius", repr(radius), "--norm", norm, "--json", "-q"]
    return subprocess.run(args, check=True, capture_output=True)


def py_count(model, center, radius, norm):
    return rw.count(rw.Network.from_file(model), center, radius, norm, threads=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = ["| case | regions / rows | CLI (median s) | Python (median s) | Python / CLI |", "|---|---|---|---|---|"]
    for name, model, center, radius, norm in WALKS:
        cli_t, py_t = [], []
        for _ in range(args.runs):
            cli_t.append(timed(lambda: cli_count(model, center, radius, norm))[0])
            t, result = timed(lambda: py_count(model, center, radius, norm))
            py_t.append(t)
        c, p = statistics.median(cli_t), statistics.median(py_t)
        rows.append(f"| count, {name} | {result.regions:,} | {c:.3f} | {p:.3f} | {p / c:.3f} |")
        print(rows[-1], file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        points = np.random.default_rng(0).uniform(-0.5, 0.5, size=(1000, 4))
        np.save(tmp / "points.npy", points)
        net = rw.Network.from_file(CARTPOLE)
        cli_t, py_t = [], []
        for _ in range(args.runs):
            cli_t.append(timed(lambda: subprocess.run(
                [str(CLI), "audit", str(CARTPOLE), "--points", str(tmp / "points.npy"), "--radius", "0.05",
                 "--out", str(tmp / "cli.jsonl"), "-q"], check=True, capture_output=True))[0])
            py_t.append(timed(lambda: rw.audit(net, points, [0.05], out=tmp / "py.jsonl", as_frame=False))[0])
        c, p = statistics.median(cli_t), statistics.median(py_t)
        rows.append(f"| audit, cartpole, 1,000 points, L2 r = 0.05, 2 threads | 1,000 | {c:.3f} | {p:.3f} | {p / c:.3f} |")
        print(rows[-1], file=sys.stderr)
    table = "\n".join(rows) + f"\n\nMachine: {machine()}; medians of {args.runs} alternating runs."
    print(table)
    if args.write:
        write_block("python", "Python package against the CLI (issue 13)", table)


if __name__ == "__main__":
    main()
