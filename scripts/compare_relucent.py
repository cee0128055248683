#!/usr/bin/env python3
"""Side-by-side speed comparison of regionwalk and relucent (issue 8).

    python3 scripts/compare_relucent.py [--runs 3] [--quick] [--no-write]

Installs relucent (PyPI, with gurobipy's size-limited licence) in a virtual environment
(target/relucent-venv), builds regionwalk, and for every network/domain pair below counts the
regions with both tools on the *same* network (relucent.mlp, PyTorch's default initialisation,
seeded) and the same domain, asserting equal counts. Runs alternate (relucent, regionwalk,
relucent, ...); the table reports medians and writes itself into BENCHMARKS.md between the
markers, with the machine, versions and date.

Times: relucent's BFS alone (one worker, verify=False, after a warm-up search in the same
process); regionwalk's walk alone (the "seconds" field of `count --json`, one thread). Whole-process
wall times of regionwalk are reported too.
"""

import argparse
import datetime
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks_md import machine, write_block

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "target" / "relucent-venv"
WORK = ROOT / "target" / "compare"
BINARY = WORK / "regionwalk"  # a copy, so that rebuilding during a run changes nothing
DRIVER = ROOT / "scripts" / "relucent_driver.py"
RELUCENT = "relucent==1.0.0"

# (label, widths, seed, half-width; 0 = the whole input space)
CASES = [
    ("2-D 16x16, whole plane", "2,16,16,1", 0, 0.0),
    ("2-D 32x32, whole plane", "2,32,32,1", 1, 0.0),
    ("2-D 20x20x20, whole plane", "2,20,20,20,1", 2, 0.0),
    ("4-D 16x16, box ±0.25", "4,16,16,1", 3, 0.25),
    ("4-D 16x16, box ±0.5", "4,16,16,1", 4, 0.5),
    ("4-D 32x32, box ±0.25", "4,32,32,1", 5, 0.25),
    ("8-D 16x16, box ±0.1", "8,16,16,1", 6, 0.1),
    ("8-D 32x32, box ±0.1", "8,32,32,1", 7, 0.1),
]
QUICK = {0, 3, 6}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def setup():
    python = VENV / "bin" / "python"
    if not python.exists():
        print("creating", VENV, file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", RELUCENT], check=True)
    subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet"], check=True, cwd=ROOT)
    WORK.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "target" / "release" / "regionwalk", BINARY)
    return python


def relucent_count(python, widths, seed, hw):
    out = run([str(python), str(DRIVER), "count", widths, str(seed), str(hw)])
    return json.loads(out.strip().splitlines()[-1])


def regionwalk_count(net, hw):
    domain = ["--whole"] if hw == 0 else [f"--box=-{hw},{hw}"]
    started = time.perf_counter()
    out = run([str(BINARY), "count", str(net), *domain, "--threads", "1", "--json"])
    wall = time.perf_counter() - started
    result = json.loads(out)
    if not result["complete"]:
        raise SystemExit(f"regionwalk did not finish on {net}")
    return result, wall


def versions(python):
    def pip_version(name):
        out = run([str(python), "-m", "pip", "show", name])
        return re.search(r"^Version: (.*)$", out, re.M).group(1)

    commit = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT).strip()
    return {
        "machine": machine(),
        "regionwalk": f"{commit} (`cargo build --release`), {run(['rustc', '--version']).strip()}",
        "relucent": f"relucent {pip_version('relucent')}, gurobipy {pip_version('gurobipy')}, "
        f"numpy {pip_version('numpy')}, Python {run([str(python), '-c', 'import sys; print(sys.version.split()[0])']).strip()}",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per tool and case (median reported)")
    parser.add_argument("--quick", action="store_true", help="three small cases only")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave BENCHMARKS.md alone")
    args = parser.parse_args()
    python = setup()
    rows = []
    for index, (label, widths, seed, hw) in enumerate(CASES):
        if args.quick and index not in QUICK:
            continue
        net = WORK / f"case{index}.json"
        run([str(python), str(DRIVER), "export", widths, str(seed), str(hw), str(net)])
        rel_times, rw_times, rw_walls, counts = [], [], [], set()
        for repeat in range(args.runs):
            rel = relucent_count(python, widths, seed, hw)
            rw, wall = regionwalk_count(net, hw)
            if rel["regions"] != rw["regions"]:
                raise SystemExit(f"{label}: relucent counts {rel['regions']}, regionwalk {rw['regions']}")
            counts.add(rw["regions"])
            rel_times.append(rel["seconds"])
            rw_times.append(rw["seconds"])
            rw_walls.append(wall)
            print(f"{label} run {repeat + 1}: {rw['regions']} regions, relucent {rel['seconds']:.2f} s, "
                  f"regionwalk {rw['seconds']:.4f} s", file=sys.stderr)
        regions = counts.pop()
        rel_t, rw_t, rw_w = (statistics.median(v) for v in (rel_times, rw_times, rw_walls))
        rows.append({
            "label": label, "regions": regions, "relucent_rate": regions / rel_t, "regionwalk_rate": regions / rw_t,
            "ratio": rel_t / rw_t, "wall_ratio": rel_t / rw_w, "lps": rw["lp_solves"] / regions,
        })
    info = versions(python)
    date = datetime.date.today().isoformat()
    lines = [
        f"Measured {date} by `python3 scripts/compare_relucent.py` (median of {args.runs} alternating runs per tool, "
        "one thread / one worker, equal counts asserted).",
        "",
        f"- Machine: {info['machine']}",
        f"- regionwalk: {info['regionwalk']}",
        f"- relucent: {info['relucent']}",
        "",
        "| network, domain | regions | relucent regions/s | regionwalk regions/s | ratio (walk) | ratio (whole process) | LPs/region |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['regions']} | {r['relucent_rate']:.1f} | {r['regionwalk_rate']:.0f} | "
            f"{r['ratio']:.0f}× | {r['wall_ratio']:.0f}× | {r['lps']:.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_block("relucent", "regionwalk vs relucent", table)


if __name__ == "__main__":
    main()
