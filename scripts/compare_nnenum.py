#!/usr/bin/env python3
"""Side-by-side speed comparison of regionwalk and nnenum on ACAS Xu boxes (issue 17).

    python3 scripts/compare_nnenum.py --nnenum PATH [--runs 3] [--quick] [--contract] [--no-write]

PATH is a checkout of nnenum (https://github.com/stanleybak/nnenum, GPL-3.0; this script runs it,
never copies it): `git clone https://github.com/stanleybak/nnenum PATH`. The script sets up a
virtual environment for it (target/nnenum-venv: numpy, scipy, swiglpk, onnx < 1.17, onnxruntime,
skl2onnx, termcolor, packaging), builds regionwalk, and for every network/box pair below counts
the activation regions with both tools on the same VNN-COMP ONNX file, one process and one
thread each (OPENBLAS/OMP threads = 1), alternating runs, asserting equal counts. The one allowed
difference: nnenum may count slivers whose inscribed radius is below regionwalk's decision margin
(`DECIDE` times the box's scale, docs/exact.md); regionwalk tallies those decisions as `touching`,
so nnenum's count may exceed regionwalk's by at most that tally, and the table says so. The table
of medians goes into BENCHMARKS.md between markers, with the machine, versions and date.

nnenum runs its exact enumeration (BRANCH_EXACT, no quick overapproximation, no specification)
on a float64 box, so that its leaf stars are exactly the full-dimensional regions; its float32
default loses sliver regions. LP contraction of the zonotope is off unless --contract: on these
boxes it made nnenum slower (prop-3 sub-box: 21.3 s with, 10.7 s without), so the comparison is
against its faster setting. Times: nnenum's `enumerate_network` call; regionwalk's walk (the
"seconds" of `count --json`, which excludes loading) and its whole process.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks_md import machine, write_block

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "target" / "nnenum-venv"
WORK = ROOT / "target" / "compare"
BINARY = WORK / "regionwalk-nnenum"  # a copy, so that rebuilding during a run changes nothing
DRIVER = ROOT / "scripts" / "nnenum_driver.py"
PACKAGES = ["numpy", "scipy", "swiglpk", "onnx<1.17", "onnxruntime", "skl2onnx", "termcolor", "packaging"]
ONNX = ROOT / "fixtures" / "acasxu" / "onnx"
NNET = ROOT / "fixtures" / "acasxu" / "nnet"
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def normalised_input_box(nnet):
    """The network's valid input box in normalised units, from the .nnet header (min, max, mean, range)."""
    lines = [l for l in Path(nnet).read_text().splitlines() if not l.startswith("//")]
    n0 = int(lines[0].split(",")[1])
    row = lambda i: [float(v) for v in lines[i].split(",") if v.strip()]
    mins, maxs, mean, rng = row(3), row(4), row(5)[:n0], row(6)[:n0]
    return [(a - m) / r for a, m, r in zip(mins, mean, rng)], [(a - m) / r for a, m, r in zip(maxs, mean, rng)]


def centre_box(net, h):
    """The centre of the normalised input box ± h·range per coordinate (issue 17's boxes)."""
    lo, hi = normalised_input_box(NNET / f"ACASXU_run2a_{net}_batch_2000.nnet")
    return [((l + u) / 2 - h * (u - l), (l + u) / 2 + h * (u - l)) for l, u in zip(lo, hi)]


PROP3_SUB = [(-0.303531156, -0.298552812), (-0.009549297, 0.009549297), (0.493380324, 0.5), (0.3, 0.4), (0.3, 0.4)]

# (label, network, box)
CASES = [
    ("1_1, centre box h = 0.03", "1_1", centre_box("1_1", 0.03)),
    ("1_1, centre box h = 0.05", "1_1", centre_box("1_1", 0.05)),
    ("1_1, prop-3 box with X3, X4 ∈ [0.3, 0.4]", "1_1", PROP3_SUB),
    ("1_1, centre box h = 0.08", "1_1", centre_box("1_1", 0.08)),
    ("1_9, centre box h = 0.03", "1_9", centre_box("1_9", 0.03)),
    ("1_9, centre box h = 0.05", "1_9", centre_box("1_9", 0.05)),
]
QUICK = {0, 4}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, env=ENV, **kw).stdout


def setup(nnenum):
    if not (nnenum / "src" / "nnenum" / "enumerate.py").exists():
        raise SystemExit(f"{nnenum} is not an nnenum checkout (no src/nnenum/enumerate.py); "
                         "git clone https://github.com/stanleybak/nnenum PATH")
    python = VENV / "bin" / "python"
    if not python.exists():
        print("creating", VENV, file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PACKAGES], check=True)
    subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet"], check=True, cwd=ROOT)
    WORK.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "target" / "release" / "regionwalk", BINARY)
    return python


def model(net):
    return ONNX / f"ACASXU_run2a_{net}_batch_2000.onnx"


def nnenum_count(python, nnenum, net, box, contract):
    args = [f"{l!r},{u!r}" for l, u in box] + ([] if contract else ["--no-contract"])
    out = run([str(python), str(DRIVER), str(nnenum / "src"), str(model(net)), *args])
    return json.loads(out.strip().splitlines()[-1])


def regionwalk_count(net, box):
    started = time.perf_counter()
    out = run([str(BINARY), "count", str(model(net)), *[f"--box={l!r},{u!r}" for l, u in box],
               "--threads", "1", "--json", "-q"])
    wall = time.perf_counter() - started
    result = json.loads(out)
    if not result["complete"] or result["unverified"]:
        raise SystemExit(f"regionwalk did not finish cleanly on {net} {box}")
    return result, wall


def versions(python, nnenum):
    def pip_version(name):
        out = run([str(python), "-m", "pip", "show", name])
        return re.search(r"^Version: (.*)$", out, re.M).group(1)

    commit = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT).strip()
    try:
        theirs = run(["git", "rev-parse", "--short", "HEAD"], cwd=nnenum).strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        theirs = "unknown commit (not a git checkout)"
    py = run([str(python), "-c", "import sys; print(sys.version.split()[0])"]).strip()
    return {
        "machine": machine(),
        "regionwalk": f"{commit} (`cargo build --release`), {run(['rustc', '--version']).strip()}",
        "nnenum": f"nnenum {theirs}, numpy {pip_version('numpy')}, swiglpk {pip_version('swiglpk')}, Python {py}",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nnenum", type=Path, required=True, help="path of an nnenum checkout")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool and case (median reported)")
    parser.add_argument("--quick", action="store_true", help="two small cases only")
    parser.add_argument("--contract", action="store_true", help="let nnenum contract zonotopes by LP")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave BENCHMARKS.md alone")
    args = parser.parse_args()
    nnenum = args.nnenum.resolve()
    python = setup(nnenum)
    rows = []
    for index, (label, net, box) in enumerate(CASES):
        if args.quick and index not in QUICK:
            continue
        theirs, ours, walls, counts = [], [], [], set()
        for repeat in range(args.runs):
            nn = nnenum_count(python, nnenum, net, box, args.contract)
            rw, wall = regionwalk_count(net, box)
            # nnenum counts slivers thinner than regionwalk's decision margin (DECIDE of the box's
            # scale), which regionwalk reports as borderline ("touching") instead; any other
            # difference is a bug in one of the tools.
            gap = nn["regions"] - rw["regions"]
            if not 0 <= gap <= rw["touching"]:
                raise SystemExit(f"{label}: nnenum counts {nn['regions']}, regionwalk {rw['regions']} "
                                 f"({rw['touching']} borderline decisions)")
            counts.add((rw["regions"], nn["regions"], rw["touching"]))
            theirs.append(nn["seconds"])
            ours.append(rw["seconds"])
            walls.append(wall)
            print(f"{label} run {repeat + 1}: {rw['regions']} regions, nnenum {nn['seconds']:.2f} s "
                  f"({nn['lps']} LPs), regionwalk {rw['seconds']:.3f} s", file=sys.stderr)
        t_nn, t_rw, t_wall = (statistics.median(v) for v in (theirs, ours, walls))
        (regions, theirs_count, touching), = counts
        shown = f"{regions}" if regions == theirs_count else \
            f"{regions} (nnenum {theirs_count}: slivers; {touching} borderline)"
        rows.append({"label": label, "regions": shown, "nnenum": t_nn, "regionwalk": t_rw,
                     "ratio": t_nn / t_rw, "wall_ratio": t_nn / t_wall})
    info = versions(python, nnenum)
    date = datetime.date.today().isoformat()
    lines = [
        f"Measured {date} by `python3 scripts/compare_nnenum.py` (median of {args.runs} alternating runs per tool, "
        f"one process and one thread each, counts asserted equal up to slivers thinner than regionwalk's "
        f"decision margin, which it reports as borderline, nnenum LP contraction "
        f"{'on' if args.contract else 'off'}).",
        "",
        f"- Machine: {info['machine']}",
        f"- regionwalk: {info['regionwalk']}",
        f"- nnenum: {info['nnenum']}",
        "",
        "| ACAS Xu network, box | regions | nnenum s | regionwalk s | ratio (walk) | ratio (whole process) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['label']} | {r['regions']} | {r['nnenum']:.2f} | {r['regionwalk']:.3f} | "
                     f"{r['ratio']:.1f}× | {r['wall_ratio']:.1f}× |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_block("nnenum", "regionwalk vs nnenum (ACAS Xu, issue 17)", table)


if __name__ == "__main__":
    main()
