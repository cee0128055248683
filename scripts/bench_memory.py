#!/usr/bin/env python3
"""Peak memory per region of `regionwalk count`, for one or more builds side by side: each case
runs once to its budget and once stopped at one region (the same command with --max-regions 1),
both under /usr/bin/time, one thread; bytes per region = (peak RSS − one-region peak RSS) /
regions. Prints a markdown table (regions, seconds, peak MiB, bytes per region per build):

    python3 scripts/bench_memory.py [--cases NAME,...] NAME=PATH/TO/regionwalk ...

Without builds, measures target/release/regionwalk as "this build".
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

MNIST = ["fixtures/mnist_fc/onnx/mnist-net_256x2.onnx", "--center", "fixtures/mnist_fc/vnnlib/prop_0_0.03.vnnlib"]
ACAS = "fixtures/acasxu/nnet/ACASXU_run2a_1_1_batch_2000.nnet"
CASES = {
    "mnist-linf-0.01": ("MNIST 256x2 (784 inputs), L-inf 0.01, complete", [*MNIST, "--radius", "0.01", "--norm", "linf"]),
    "mnist-linf-0.02": ("MNIST 256x2 (784 inputs), L-inf 0.02, stopped at 10^5",
                        [*MNIST, "--radius", "0.02", "--norm", "linf", "--max-regions", "100000"]),
    "mnist-1m": ("MNIST 256x2 (784 inputs), L-inf 0.03, stopped at 10^6",
                 [*MNIST, "--radius", "0.03", "--norm", "linf", "--max-regions", "1000000"]),
    "acas-l2": ("ACAS Xu 1_1 (5 inputs), L2 0.15 walk, stopped at 10^6",
                [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.15", "--max-regions", "1000000"]),
    "acas-box": ("ACAS Xu 1_1 (5 inputs), L-inf 0.14 box partition, complete",
                 [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.14", "--norm", "linf"]),
    "cifar-cnn": ("cifar_conv18k (3,072 inputs, 18,496 ReLUs), L-inf 0.002 at 0.5, stopped at 5,000",
                  ["fixtures/cnn/cifar_conv18k.onnx", "--center=" + ",".join(["0.5"] * 3072), "--radius", "0.002",
                   "--norm", "linf", "--max-regions", "5000"]),
    "acas-l2-1m": ("ACAS Xu 1_1, L2 0.3 walk, stopped at 10^6",
                   [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.3", "--max-regions", "1000000"]),
    "acas-box-200s": ("ACAS Xu 1_1, L-inf 0.3 box partition, stopped at 200 s",
                      [ACAS, "--center=0.1,0.1,0.1,0.1,0.1", "--radius", "0.3", "--norm", "linf", "--time-limit", "200"]),
    "arrangement-10m": ("4 inputs, one layer of 200 neurons (seeded), L2 1 walk, stopped at 10^7",
                        ["{arrangement}", "--center=0,0,0,0", "--radius", "1", "--max-regions", "10000000"]),
    "arrangement-10m-fingerprints": ("same, 128-bit fingerprints", ["{arrangement}", "--center=0,0,0,0", "--radius", "1",
                                                                     "--max-regions", "10000000", "--visited", "fingerprints"]),
}


def arrangement(path, neurons=200, inputs=4, seed=11):
    """A one-hidden-layer network whose hyperplanes are in general position (seeded uniform normals
    and offsets): ~C(n, 4) regions meet the unit ball, a walk of 10^7 regions in 4-D."""
    import random
    r = random.Random(seed)
    weight = [[r.uniform(-1, 1) for _ in range(inputs)] for _ in range(neurons)]
    bias = [r.uniform(-0.5, 0.5) for _ in range(neurons)]
    layers = [{"weight": weight, "bias": bias}, {"weight": [[1.0] * neurons], "bias": [0.0]}]
    with open(path, "w") as f:
        json.dump({"layers": layers}, f)


def run(binary, args):
    """(report, seconds, peak KiB) of one count."""
    with tempfile.NamedTemporaryFile(suffix=".time") as t:
        out = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", t.name, binary, "count", *args, "--threads", "1",
                              "--json", "-q"], capture_output=True, text=True)
        if out.returncode not in (0, 2):
            raise SystemExit(f"{binary} {' '.join(args)}: {out.stderr}")
        seconds, kib = open(t.name).read().split()[-2:]
    return json.loads(out.stdout), float(seconds), int(kib)


def one_region(args):
    """The same command stopped at one region."""
    args = list(args)
    if "--max-regions" in args:
        i = args.index("--max-regions")
        del args[i:i + 2]
    return args + ["--max-regions", "1"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default="mnist-linf-0.01,mnist-linf-0.02,acas-l2,acas-box",
                   help=f"comma-separated, from {', '.join(CASES)}")
    p.add_argument("builds", nargs="*")
    a = p.parse_args()
    builds = [b.split("=", 1) for b in a.builds] or [("this build", "target/release/regionwalk")]
    print("| case | build | regions | complete | s | peak MiB | one-region MiB | bytes/region | spilled |")
    print("|---|---|---|---|---|---|---|---|---|")
    generated = tempfile.mkdtemp()
    for key in a.cases.split(","):
        name, args = CASES[key]
        if "{arrangement}" in args:
            arrangement(os.path.join(generated, "arrangement.json"))
            args = [os.path.join(generated, "arrangement.json") if x == "{arrangement}" else x for x in args]
        for build, binary in builds:
            report, seconds, kib = run(binary, args)
            _, _, base = run(binary, one_region(args))
            regions = report["regions"]
            per = (kib - base) * 1024 / max(regions, 1)
            print(f"| {name} | {build} | {regions} | {report['complete']} | {seconds:.1f} | {kib / 1024:.0f} | "
                  f"{base / 1024:.0f} | {per:.0f} | {report.get('spilled_regions', '–')} |", flush=True)


if __name__ == "__main__":
    main()
