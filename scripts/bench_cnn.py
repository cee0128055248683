#!/usr/bin/env python3
"""CNN benchmark of issues 14 and 34: for each CNN and ResNet fixture, the wall time and peak memory of `regionwalk
bound` with default settings (load, interval analysis, the cheap bounds, then sampling and the
budgeted walk within the 0.5 s budget) and of a `bound` that stops after the interval analysis
(`--method global --samples 1 --budget 0.001`: load and analysis only), for one or more
binaries, alternating runs, medians; and, with `--python`, the time the Python package takes to
load each network alone. Prints a markdown table.

    python3 scripts/bench_cnn.py --runs 3 new=target/release/regionwalk [base=/tmp/rw-base] [--python PY]

A binary that runs past --timeout seconds (default 60) is reported as such, not waited for.
"""

import argparse
import os
import pathlib
import signal
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = [
    # fixture (under fixtures/), input size, centre value, L-inf radius
    ("cnn/Convnet_avgpool.onnx", 784, None, 0.01),
    ("cnn/Convnet_maxpool.onnx", 784, None, 0.01),
    ("cnn/cifar_base_kw.onnx", 3072, 0.5, 0.004),
    ("cnn/cifar10_large.onnx", 3072, 0.5, 0.004),
    ("cnn/cifar_conv18k.onnx", 3072, 0.5, 0.004),
    ("resnet/resnet_2b.onnx", 3072, 0.5, 0.004),
    ("resnet/resnet_4b.onnx", 3072, 0.5, 0.004),
    ("resnet/resnet_3b2_bn_mixup_adv_4.0_bs128_lr-1.onnx", 3072, 0.5, 0.004),
]
MODES = {
    "analysis": ["--method", "global", "--samples", "1", "--budget", "0.001"],
    "default": [],
}


def first_mnist_image():
    row = (ROOT / "fixtures/datasets/eran_mnist_test_first100.csv").read_text().splitlines()[0].split(",")
    return [int(v) / 255 for v in row[1:]]


def run(binary, args, timeout):
    """Wall seconds and peak kilobytes of one run, from GNU time; None past the timeout, and the
    first line of the error if the binary refuses the model (an older build without an op)."""
    cmd = ["/usr/bin/time", "-f", "%e %M", binary, *args]
    # Its own session, so that a timeout kills the binary too, not only GNU time.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    if proc.returncode != 0:
        return stderr.strip().splitlines()[0][:80]
    seconds, kb = stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kb)


def python_load_seconds(python, path, runs):
    code = (
        "import time, regionwalk as rw\n"
        f"t = time.perf_counter(); rw.Network.from_file({str(path)!r}); print(time.perf_counter() - t)"
    )
    times = [float(subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout)
             for _ in range(runs)]
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--python", help="a Python with the regionwalk package, to time loading alone")
    parser.add_argument("binaries", nargs="+", help="NAME=PATH")
    a = parser.parse_args()
    binaries = [b.split("=", 1) for b in a.binaries]
    # Units: the network's ReLU units, for a ResNet with the units that carry skipped values
    # (docs/dag.md).
    print("| network | units | mode | " + " | ".join(f"{n} s (peak MB)" for n, _ in binaries) + " |")
    print("|---|---|---|" + "---|" * len(binaries))
    for name, n, value, radius in CASES:
        path = ROOT / "fixtures" / name
        centre = first_mnist_image() if value is None else [value] * n
        domain = ["--center", ",".join(map(str, centre)), "--radius", str(radius), "--norm", "linf"]
        relus = subprocess.run([binaries[0][1], "eval", str(path), "--point", ",".join(map(str, centre)), "--json"],
                               check=True, capture_output=True, text=True).stdout
        relus = sum(len(layer) for layer in __import__("json").loads(relus)["pattern"])
        for mode, extra in MODES.items():
            results = {b: [] for b, _ in binaries}
            for _ in range(a.runs):
                for b, binary in binaries:
                    results[b].append(run(binary, ["bound", str(path), *domain, *extra], a.timeout))
            cells = []
            for b, _ in binaries:
                done = [r for r in results[b] if isinstance(r, tuple)]
                failed = [r for r in results[b] if isinstance(r, str)]
                if failed:
                    cells.append(f"fails: {failed[0]}")
                elif len(done) < len(results[b]):
                    cells.append(f"> {a.timeout:.0f} s")
                else:
                    cells.append(f"{statistics.median(r[0] for r in done):.2f} "
                                 f"({statistics.median(r[1] for r in done) / 1024:.0f})")
            print(f"| {name} | {relus:,} | {mode} | " + " | ".join(cells) + " |")
        if a.python:
            print(f"| {name} | {relus:,} | Python load | {python_load_seconds(a.python, path, a.runs):.3f} |"
                  + " |" * (len(binaries) - 1))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
