#!/usr/bin/env python3
"""The estimate against the exact count on real networks, side by side: for each case, the exact
count and its time (`count --threads 1`), and the estimate, its interval, whether the interval
covers the count and its time (`estimate --threads 1`, default probes, several seeds). Prints a
markdown table for BENCHMARKS.md.

    python3 scripts/bench_estimate.py [--seeds 5] [--probes 1000] [--time-limit S] [--width 1,8] [--only TEXT] [--bin target/release/regionwalk]

With --time-limit, each estimate runs up to --probes probes within that many seconds. --width
lists the probe widths to compare (one row each per case, same exact count); the relative
standard error column compares them at equal time.
"""

import argparse
import json
import statistics
import subprocess

ACAS = "fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx"
CASES = [
    ("ACAS Xu 1_1, L2 0.1", [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.1"]),
    ("ACAS Xu 1_1, L2 0.15", [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.15"]),
    ("ACAS Xu 1_1, L-inf 0.05", [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.05", "--norm", "linf"]),
    ("ACAS Xu 1_1, L-inf 0.12", [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.12", "--norm", "linf"]),
    ("ACAS Xu 1_1, L-inf 0.14", [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.14", "--norm", "linf"]),
    ("cartpole 4-64-64, L2 0.3", ["fixtures/small/vnncomp22_rl/cartpole.onnx", "--center=0,0,0,0", "--radius", "0.3"]),
    ("MNIST 256x2, L-inf 0.008", ["fixtures/mnist_fc/onnx/mnist-net_256x2.onnx", "--center",
                                  "fixtures/mnist_fc/vnnlib/prop_0_0.03.vnnlib", "--radius", "0.008", "--norm", "linf"]),
    ("MNIST 256x2, L-inf 0.01", ["fixtures/mnist_fc/onnx/mnist-net_256x2.onnx", "--center",
                                 "fixtures/mnist_fc/vnnlib/prop_0_0.03.vnnlib", "--radius", "0.01", "--norm", "linf"]),
]


def run(binary, args):
    out = subprocess.run([binary, *args, "--threads", "1", "--json"], capture_output=True, text=True)
    if out.returncode not in (0, 2):
        raise SystemExit(f"{args}: {out.stderr}")
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--probes", type=int, default=1000)
    p.add_argument("--time-limit", type=float, default=None)
    p.add_argument("--width", default="1", help="comma-separated probe widths")
    p.add_argument("--only", default="", help="only cases whose name contains this text")
    p.add_argument("--bin", default="target/release/regionwalk")
    a = p.parse_args()
    widths = [int(w) for w in a.width.split(",")]
    print("| case | exact | count s | width | estimate (median over seeds) | median \\|est/exact − 1\\| | "
          "median SE / estimate | intervals covering | flagged unreliable | probes | estimate s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, args in CASES:
        if a.only not in name:
            continue
        exact = run(a.bin, ["count", *args, "-q"])
        n = exact["regions"]
        limit = ["--time-limit", str(a.time_limit)] if a.time_limit else []
        for width in widths:
            runs = [run(a.bin, ["estimate", *args, "--probes", str(a.probes), "--seed", str(s), "--budget", "0.001",
                                "--width", str(width), *limit]) for s in range(a.seeds)]
            errors = [abs(r["estimate"] / n - 1) for r in runs]
            spread = statistics.median(r["standard_error"] / r["mean"] for r in runs)
            covered = sum(r["estimate_low"] <= n <= r["estimate_high"] for r in runs)
            unreliable = sum(not r["reliable"] for r in runs)
            print(f"| {name} | {n:,} | {exact['seconds']:.2f} | {width} | "
                  f"{statistics.median(r['estimate'] for r in runs):,.0f} | {statistics.median(errors):.1%} | "
                  f"{spread:.1%} | {covered}/{len(runs)} | {unreliable}/{len(runs)} | "
                  f"{statistics.median(r['probes'] for r in runs):,.0f} | "
                  f"{statistics.median(r['seconds'] for r in runs):.2f} |", flush=True)


if __name__ == "__main__":
    main()
