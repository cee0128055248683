"""regionwalk.distributed on a real two-node Ray cluster on loopback (run inside a private network
namespace by scripts/test.sh: `unshare -n`, so nothing leaves 127.0.0.1). Every test is bounded
in time and the cluster is stopped at the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import regionwalk as rw
import regionwalk.distributed as distributed

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
CARTPOLE = ROOT / "fixtures" / "small" / "vnncomp22_rl" / "cartpole.onnx"
RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """A head node and a second node, one CPU each, on 127.0.0.1."""
    port = free_port()
    common = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
    subprocess.run([RAY, "start", "--head", "--port", str(port), "--include-dashboard", "false", *common],
                   check=True, timeout=180, capture_output=True)
    try:
        subprocess.run([RAY, "start", "--address", f"127.0.0.1:{port}", *common], check=True, timeout=180,
                       capture_output=True)
        address = f"127.0.0.1:{port}"
        ray.init(address=address, log_to_driver=False)
        deadline = time.time() + 60
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            assert time.time() < deadline, "the second node did not join"
            time.sleep(0.5)
        yield address
    finally:
        ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], timeout=180, capture_output=True)


def rows(path: Path):
    """The rows of a report sorted by point and radius, without wall times."""
    records = json.loads(rw._native.read_report(str(path)))
    for r in records:
        del r["seconds"]
    return sorted(records, key=lambda r: (r["point"], r["radius"]))


def serial(net, points, radii, tmp_path, name="serial.jsonl", **kw):
    out = tmp_path / name
    rw.audit(net, points, radii, out=out, as_frame=False, **kw)
    return rows(out)


def random_net(seed, widths):
    rng = np.random.default_rng(seed)
    return rw.Network.from_layers([(rng.standard_normal((o, i)), rng.standard_normal(o) * 0.3)
                                   for i, o in zip(widths[:-1], widths[1:])])


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_distributed_equals_serial_on_a_fixture(cluster, tmp_path, fmt):
    net = rw.Network.from_file(CARTPOLE)
    points = np.random.default_rng(0).uniform(-0.5, 0.5, size=(60, 4))
    out = tmp_path / f"d.{fmt}"
    run = distributed.audit(CARTPOLE, points, [0.05, 0.1], out=out, chunk=7, progress=False)
    assert (run.rows, run.kept, run.computed) == (120, 0, 120) and run.tasks == 2 * 9
    assert rows(out) == serial(net, points, [0.05, 0.1], tmp_path, f"s.{fmt}")


@pytest.mark.parametrize(
    "name, radii",
    [("residual_mlp", [0.2, 0.5]), ("input_skip", [0.2, 0.5]), ("pooled_resnet", [0.05, 0.1])],
)
def test_distributed_equals_serial_on_graphs(cluster, tmp_path, name, radii):
    # Graphs that are not chains (docs/dag.md), given by their files as the Ray workers load them:
    # residual blocks; a skip from the input (identity units); max pooling and a skip over it.
    path = ROOT / "fixtures" / "dag" / f"{name}.onnx"
    net = rw.Network.from_file(path)
    points = np.random.default_rng(2).uniform(-0.5, 0.5, size=(20, net.input_dim))
    out = tmp_path / "d.jsonl"
    run = distributed.audit(path, points, radii, out=out, chunk=5, progress=False)
    assert run.rows == 40
    assert rows(out) == serial(net, points, radii, tmp_path)


@pytest.mark.parametrize("seed", range(3))
def test_distributed_equals_serial_on_random_networks(cluster, tmp_path, seed):
    net = random_net(seed, [3, 10, 10, 2])
    points = np.random.default_rng(seed).standard_normal((25, 3))
    labels = [f"p{i}" for i in range(25)]
    # A small region budget and the estimate: the rows whose walk stops carry the same estimate.
    # No time limit: under one, a timed pilot sizes the estimate's strata, so that a loaded machine
    # would give another (equally unbiased) estimate; without one, the seed alone decides it.
    kw = dict(norm="linf" if seed % 2 else "l2", methods=["paper", "product"], labels=labels, max_regions=6,
              estimate=True, probes=40, seed=seed, budget=None)
    out = tmp_path / "d.jsonl"
    distributed.audit(net, points, [0.2, 0.6], out=out, chunk=4, progress=False, **kw)
    got = rows(out)
    assert got == serial(net, points, [0.2, 0.6], tmp_path, **kw)
    assert any(r["estimate"] is not None for r in got) and all((r["estimate"] is None) == r["complete"] for r in got)


def slow_audit_case():
    """About 0.1-0.3 s per row on one CPU: long enough to kill something mid-run."""
    return rw.Network.from_file(CARTPOLE), np.random.default_rng(1).uniform(-0.3, 0.3, size=(24, 4)), [0.3]


def test_a_killed_worker_does_not_lose_rows(cluster, tmp_path):
    net, points, radii = slow_audit_case()
    out = tmp_path / "d.jsonl"
    result = {}
    t = threading.Thread(target=lambda: result.update(run=distributed.audit(
        net, points, radii, out=out, chunk=2, progress=False)))
    t.start()
    killed = None
    deadline = time.time() + 120
    while killed is None and t.is_alive() and time.time() < deadline:
        pids = subprocess.run(["pgrep", "-f", "ray::_audit_chunk"], capture_output=True, text=True).stdout.split()
        if pids:
            killed = int(pids[0])
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    t.join(timeout=300)
    assert not t.is_alive(), "the audit did not finish"
    assert killed is not None, "no task was running to kill"
    assert result["run"].rows == len(points)
    assert rows(out) == serial(net, points, radii, tmp_path)


DRIVER = """
import sys, numpy as np, regionwalk as rw, regionwalk.distributed as d
net = rw.Network.from_file(sys.argv[1])
points = np.random.default_rng(1).uniform(-0.3, 0.3, size=(24, 4))
d.audit(net, points, [0.3], out=sys.argv[2], chunk=1, address=sys.argv[3], progress=False)
"""


def test_an_interrupted_driver_is_continued_by_the_same_call(cluster, tmp_path):
    net, points, radii = slow_audit_case()
    out = tmp_path / "d.jsonl"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(CARTPOLE), str(out), cluster])
    deadline = time.time() + 120
    while time.time() < deadline and driver.poll() is None:
        if out.exists() and len(out.read_text().splitlines()) >= 5:
            break
        time.sleep(0.02)
    driver.kill()
    driver.wait(timeout=60)
    written = len(json.loads(rw._native.read_report(str(out))))
    assert 5 <= written < len(points), f"{written} rows written before the kill"
    run = distributed.audit(net, points, radii, out=out, chunk=1, progress=False)
    assert run.kept == written and run.computed == len(points) - written and run.rows == len(points)
    assert rows(out) == serial(net, points, radii, tmp_path)


def test_a_bad_point_fails_up_front_as_in_the_serial_audit(cluster, tmp_path):
    net = rw.Network.from_file(CARTPOLE)
    points = np.random.default_rng(2).uniform(-0.5, 0.5, size=(10, 4))
    points[6, 2] = np.nan
    with pytest.raises(ValueError) as serial_error:
        rw.audit(net, points, [0.1], out=tmp_path / "s.jsonl")
    with pytest.raises(ValueError) as distributed_error:
        distributed.audit(net, points, [0.1], out=tmp_path / "d.jsonl", progress=False)
    assert str(distributed_error.value) == str(serial_error.value)
    assert "point 6" in str(serial_error.value)
    assert not (tmp_path / "d.jsonl").exists()


def test_rows_of_another_audit_are_not_silently_mixed_in(cluster, tmp_path):
    net = rw.Network.from_file(CARTPOLE)
    points = np.zeros((3, 4))
    out = tmp_path / "d.jsonl"
    distributed.audit(net, points, [0.1], out=out, progress=False)
    with pytest.raises(ValueError, match="another audit"):
        distributed.audit(net, points, [0.2], out=out, progress=False)
