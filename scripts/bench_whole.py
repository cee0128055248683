#!/usr/bin/env python3
"""Whole-space counts of one-hidden-layer networks: the arrangement engine against the walk.

    python3 scripts/bench_whole.py [--binary target/release/regionwalk] [--walk-seconds 30]

For each seeded network (PyTorch's default initialisation, written to target/bench-whole/), counts
the whole input space with `--engine auto` (the arrangement) to the end and with `--engine walk`
for at most --walk-seconds, one thread each, and prints a Markdown table: regions (checked against
Zaslavsky's count sum_{i<=d} C(n, i) for the generic networks, with the slivers tallied as
touching), seconds, regions/s and peak RSS
(`/usr/bin/time`) of the arrangement, and the walk's regions/s on the same network. Standard
library only.
"""

import argparse
import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench-whole"

# (label, inputs, neurons, seed, integer weights: a degenerate arrangement)
CASES = [
    ("6-12", 6, 12, 1, False),
    ("8-20", 8, 20, 2, False),
    ("8-24", 8, 24, 3, False),
    ("5-40", 5, 40, 4, False),
    ("3-100", 3, 100, 5, False),
    ("6-16, integer weights in [-2, 2]", 6, 16, 6, True),
]


def network(inputs, neurons, seed, integer):
    rng = random.Random(seed)
    k = 1 / math.sqrt(inputs)
    draw = (lambda: float(rng.randint(-2, 2))) if integer else (lambda: rng.uniform(-k, k))
    hidden = {"weight": [[draw() for _ in range(inputs)] for _ in range(neurons)],
              "bias": [draw() for _ in range(neurons)]}
    k = 1 / math.sqrt(neurons)
    out = {"weight": [[rng.uniform(-k, k) for _ in range(neurons)]], "bias": [0.0]}
    return {"layers": [hidden, out]}


def run(binary, path, *extra):
    cmd = ["/usr/bin/time", "-f", "%M", binary, "count", str(path), "--whole", "--threads", "1", "--json", "-q", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 2):
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    report = json.loads(p.stdout)
    peak_kb = int(re.findall(r"^(\d+)$", p.stderr, re.M)[-1])
    return report, peak_kb / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "regionwalk"))
    ap.add_argument("--walk-seconds", type=float, default=30.0)
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    print("| network (inputs-neurons) | regions | touching | arrangement s | regions/s | peak MiB | "
          "walk regions/s (first N s) | speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for label, inputs, neurons, seed, integer in CASES:
        path = WORK / f"{label.split(',')[0]}-{seed}.json"
        path.write_text(json.dumps(network(inputs, neurons, seed, integer)))
        arr, peak = run(args.binary, path)
        assert arr["engine"] == "arrangement" and arr["complete"], arr
        if not integer:
            expected = sum(math.comb(neurons, i) for i in range(inputs + 1))
            # A cell thinner than the decision margin is tallied as touching, as the walk does.
            assert arr["regions"] + arr["touching"] == expected, (label, arr["regions"], expected)
        walked, _ = run(args.binary, path, "--engine", "walk", "--time-limit", str(args.walk_seconds))
        if walked["complete"]:
            assert walked["regions"] == arr["regions"], (label, walked["regions"], arr["regions"])
        arr_rate = arr["regions"] / arr["seconds"]
        walk_rate = walked["regions"] / walked["seconds"]
        print(f"| {label} | {arr['regions']:,} | {arr['touching']} | {arr['seconds']:.2f} | {arr_rate:,.0f} | {peak:.0f} | "
              f"{walk_rate:,.0f} ({walked['regions']:,} in {walked['seconds']:.0f} s"
              f"{', complete' if walked['complete'] else ''}) | {arr_rate / walk_rate:,.0f}× |", flush=True)


if __name__ == "__main__":
    main()
