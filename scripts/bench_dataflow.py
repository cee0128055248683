#!/usr/bin/env python3
"""The dataflow walk (issue 16) against the single walk, side by side in one run: wall time from
start to process 0's exit, peak memory per process, and bytes sent between processes per region.

    python3 scripts/bench_dataflow.py [--runs 3] [--radius 0.17] [--binary target/release/regionwalk]

Configurations (alternated, medians reported): the single walk on one thread; the dataflow walk
with 1 process x 1 worker; 1 process x 2 workers; 2 processes x 1 worker on 127.0.0.1. The
second process is started once the first listens, so connection retries do not count.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time

NET = "fixtures/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx"


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def timed(cmd):
    """Starts `cmd` under /usr/bin/time; returns the process and the file its peak RSS goes to."""
    rss = tempfile.NamedTemporaryFile(delete=False, suffix=".rss").name
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p, rss


def peak_mb(path):
    with open(path) as f:
        kb = int(f.read().strip().splitlines()[-1])
    os.unlink(path)
    return kb / 1024


def run(binary, base, config):
    started = time.monotonic()
    if config == "single":
        p, rss = timed([binary, *base, "--engine", "walk", "--threads", "1"])
        out, err = p.communicate()
        return time.monotonic() - started, json.loads(out), [peak_mb(rss)]
    if config in ("1x1", "1x2"):
        p, rss = timed([binary, *base, "--workers", config[-1]])
        out, err = p.communicate()
        return time.monotonic() - started, json.loads(out), [peak_mb(rss)]
    hosts = tempfile.NamedTemporaryFile("w", delete=False, suffix=".hosts")
    hosts.write("".join(f"127.0.0.1:{port}\n" for port in free_ports(2)))
    hosts.close()
    cluster = ["--hostfile", hosts.name]
    p0, rss0 = timed([binary, *base, *cluster, "--process", "0"])
    time.sleep(0.3)  # process 0 listens before process 1 connects
    p1, rss1 = timed([binary, *base, *cluster, "--process", "1"])
    out, err = p0.communicate()
    p1.communicate()
    os.unlink(hosts.name)
    if p0.returncode != 0:
        raise SystemExit(err)
    return time.monotonic() - started - 0.3, json.loads(out), [peak_mb(rss0), peak_mb(rss1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--radius", type=float, default=0.17)
    ap.add_argument("--binary", default="target/release/regionwalk")
    a = ap.parse_args()
    base = ["count", NET, "--center=0.1,0.1,0.1,0.1,0.1", f"--radius={a.radius}", "--json", "-q"]
    configs = ["single", "1x1", "1x2", "2x1"]
    seconds = {c: [] for c in configs}
    memory, reports = {}, {}
    for _ in range(a.runs):
        for c in configs:
            s, report, mb = run(a.binary, base, c)
            seconds[c].append(s)
            memory[c], reports[c] = mb, report
    counts = {r["regions"] for r in reports.values()}
    if len(counts) != 1:
        raise SystemExit(f"counts differ: { {c: r['regions'] for c, r in reports.items()} }")
    regions = counts.pop()
    single = statistics.median(seconds["single"])
    print(f"ACAS Xu 1_1, L2 ball of radius {a.radius} at 0.1: {regions} regions; medians of {a.runs} alternating runs\n")
    print("| configuration | wall time | vs single walk | peak memory per process | regions per process | bytes between processes per region |")
    print("|---|---|---|---|---|---|")
    for c in configs:
        r = reports[c]
        t = statistics.median(seconds[c])
        shards = r.get("shards", [regions])
        per_process = shards if c == "2x1" else [sum(shards)]
        per_region = r.get("remote_bytes_per_region", 0.0)
        name = {"single": "single walk, 1 thread", "1x1": "dataflow 1 process x 1 worker", "1x2": "dataflow 1 process x 2 workers", "2x1": "dataflow 2 processes x 1 worker"}[c]
        mem = " / ".join(f"{m:.0f} MB" for m in memory[c])
        print(f"| {name} | {t:.2f} s | {single / t:.2f}x | {mem} | {' / '.join(map(str, per_process))} | {per_region:.0f} |")


if __name__ == "__main__":
    main()
