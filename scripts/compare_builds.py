#!/usr/bin/env python3
"""Times several regionwalk binaries on the same networks and domains, alternating runs, and prints
a markdown table (median walk seconds and LP/QP solves per region for each binary). Used to measure
what each optimisation step bought, with every figure from one run:

    python3 scripts/compare_builds.py --runs 3 NAME=PATH/TO/regionwalk ... -- NET.json:DOMAIN-ARGS ...

DOMAIN-ARGS are `count` flags separated by spaces, e.g. "net.json:--box=-0.5,0.5".
"""

import json
import statistics
import subprocess
import sys


def main():
    args = sys.argv[1:]
    runs = 3
    if args[:1] == ["--runs"]:
        runs, args = int(args[1]), args[2:]
    split = args.index("--")
    binaries = [a.split("=", 1) for a in args[:split]]
    cases = [c.split(":", 1) for c in args[split + 1:]]
    rows = []
    for net, domain in cases:
        times = {name: [] for name, _ in binaries}
        work = {}
        for _ in range(runs):
            for name, path in binaries:
                out = subprocess.run([path, "count", net, *domain.split(), "--threads", "1", "--json", "-q"],
                                     check=True, capture_output=True, text=True).stdout
                r = json.loads(out)
                times[name].append(r["seconds"])
                work[name] = (r["regions"], r["lp_solves"] / r["regions"], r["qp_solves"] / r["regions"])
        counts = {w[0] for w in work.values()}
        if len(counts) != 1:
            raise SystemExit(f"{net} {domain}: counts differ between binaries: {work}")
        cells = [f"{statistics.median(times[n]):.3f} s ({work[n][1]:.1f} LP, {work[n][2]:.1f} QP)" for n, _ in binaries]
        rows.append(f"| {net.rsplit('/', 1)[-1]} {domain} | {counts.pop()} | " + " | ".join(cells) + " |")
    print("| case | regions | " + " | ".join(n for n, _ in binaries) + " |")
    print("|---|---|" + "---|" * len(binaries))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
