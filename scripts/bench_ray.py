"""The distributed audit against the serial one, side by side in one run (issue 15's targets):
a 1,000-point audit in-process on one thread, on a Ray cluster of 1 node × 1 CPU (the per-task
overhead at the default chunk size) and of 2 nodes × 1 CPU (the throughput of two). Ray binds to
the machine's interface address, so this runs inside a private network namespace:

  sudo unshare -n bash -c 'ip link set lo up && target/py-venv/bin/python scripts/bench_ray.py [--write]'
"""

import argparse
import statistics
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import regionwalk as rw
import regionwalk.distributed as distributed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks_md import ROOT, machine, write_block  # noqa: E402

RAY = str(Path(sys.executable).with_name("ray"))
CARTPOLE = ROOT / "fixtures" / "small" / "vnncomp22_rl" / "cartpole.onnx"


def start_cluster(nodes):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    common = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
    subprocess.run([RAY, "start", "--head", "--port", str(port), "--include-dashboard", "false", *common],
                   check=True, capture_output=True, timeout=180)
    for _ in range(nodes - 1):
        subprocess.run([RAY, "start", "--address", f"127.0.0.1:{port}", *common], check=True, capture_output=True,
                       timeout=180)
    return f"127.0.0.1:{port}"


def stop_cluster():
    import ray

    ray.shutdown()
    subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=180)


def timed(f):
    t = time.perf_counter()
    value = f()
    return time.perf_counter() - t, value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--radius", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    import ray

    net = rw.Network.from_file(CARTPOLE)
    points = np.random.default_rng(0).uniform(-0.5, 0.5, size=(args.points, 4))
    rows = ["| setting | median s | rows/s | serial / this (same cluster session) |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.jsonl"
        serial_all = []
        for nodes in (1, 2):
            address = start_cluster(nodes)
            try:
                ray.init(address=address, log_to_driver=False)
                while len([n for n in ray.nodes() if n["Alive"]]) < nodes:
                    time.sleep(0.2)
                # Warm the workers (process start, imports) so that the timing is the audit's.
                distributed.audit(net, points[:4], [args.radius], out=out, resume=False, progress=False, chunk=1)
                serial, spread = [], []
                for _ in range(args.runs):  # alternating, so that machine noise hits both alike
                    serial.append(timed(lambda: rw.audit(net, points, [args.radius], threads=1, as_frame=False))[0])
                    t, run = timed(lambda: distributed.audit(net, points, [args.radius], out=out, resume=False,
                                                             progress=False))
                    spread.append(t)
            finally:
                stop_cluster()
            s, d = statistics.median(serial), statistics.median(spread)
            serial_all += serial
            what = f"Ray, {nodes} node{'s' if nodes > 1 else ''} × 1 CPU (chunk {distributed.DEFAULT_CHUNK}, {run.tasks} tasks)"
            rows.append(f"| {what} | {d:.2f} | {args.points / d:.0f} | {s / d:.2f}× |")
        s = statistics.median(serial_all)
        rows.insert(2, f"| serial, in-process, 1 thread | {s:.2f} | {args.points / s:.0f} | 1.00× |")
    table = "\n".join(rows) + (
        f"\n\n{args.points} points of cartpole 4-64-64, L2 radius {args.radius}, exact counts and the cheap bounds;"
        f" medians of {args.runs} runs alternating with the serial audit. Machine: {machine()}.")
    print(table)
    if args.write:
        write_block("ray", "Distributed audits on Ray (issue 15)", table)


if __name__ == "__main__":
    main()
