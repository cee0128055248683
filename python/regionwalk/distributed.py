"""Audits past one machine: the same audit as :func:`regionwalk.audit`, run as Ray tasks.

The audit is embarrassingly parallel over points. The driver splits the (point, radius) rows still
missing from ``out`` into chunks, runs each chunk as a Ray task (the engine releases the GIL and
uses ``threads_per_task`` threads), and appends finished rows to ``out`` as the chunks complete,
in the CLI's own JSON Lines or CSV format, each row carrying its point index. Nothing is lost:

- a task whose worker dies is retried by Ray (``max_retries``);
- a driver that dies leaves only whole rows (plus at most one cut line, which is skipped); the
  same call run again keeps every finished row and computes only the missing ones.

Sorted by point and radius, the rows equal the serial audit's in every field but ``seconds``.

Ray is an optional dependency (``pip install "./python[ray]"``)::

    ray start --head --num-cpus 1 --port 6379          # a head node
    ray start --address 127.0.0.1:6379 --num-cpus 1    # a second node (or on another machine)
    python -c "import regionwalk.distributed as d; d.audit('net.onnx', 'points.npy', [0.01], \\
               out='audit.jsonl', address='auto')"
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._common import _DEFAULTS
from .audits import AUDIT_METHODS, _audit_inputs
from .network import Network, _network

#: Rows per task unless told otherwise: large enough that Ray's per-task cost (scheduling,
#: shipping the chunk, a result of a few kB) stays small next to the engine's work, small enough
#: that every CPU gets several tasks and a retried task repeats little.
DEFAULT_CHUNK = 32


@dataclass
class DistributedRun:
    """What a distributed audit did: rows in ``out`` at the end, rows kept from an earlier run,
    rows computed now, tasks run, and the Ray dashboard's address if it has one."""

    out: str
    rows: int
    kept: int
    computed: int
    tasks: int
    dashboard: Optional[str]


def _audit_chunk(net_json: str, points: np.ndarray, indices: List[int], labels: Optional[List[str]],
                 radius: float, options: Dict[str, Any]) -> str:
    """One task: the rows of `points` (global indices `indices`) at `radius`, as a JSON array."""
    net = _native.Network.from_json(net_json)
    text, _ = _native.audit(net, points, [radius], labels=labels, **options)
    records = json.loads(text)
    for r in records:
        r["point"] = indices[r["point"]]
    return json.dumps(records)


def _kept_rows(out: str, n_points: int, radii: Sequence[float], resume: bool) -> List[Dict[str, Any]]:
    if not (resume and os.path.exists(out)):
        return []
    rows = json.loads(_native.read_report(out))
    wanted = set(radii)
    for r in rows:
        if r["point"] >= n_points or r["radius"] not in wanted:
            raise ValueError(
                f"{out} holds a row of another audit (point {r['point']}, radius {r['radius']}); "
                "give another out or resume=False"
            )
    # One row per (point, radius): a row written twice (a retried chunk that had been written
    # before the driver died) is kept once.
    unique = {(r["point"], r["radius"]): r for r in rows}
    return list(unique.values())


def audit(
    model: Union[str, "os.PathLike[str]", Network],
    points: Any,
    radii: Union[float, Sequence[float]],
    *,
    out: Union[str, "os.PathLike[str]"],
    address: Optional[str] = None,
    chunk: int = DEFAULT_CHUNK,
    exact: bool = True,
    norm: str = "l2",
    methods: Optional[Sequence[str]] = None,
    max_regions: int = _DEFAULTS["audit_max_regions"],
    budget: Optional[float] = _DEFAULTS["budget"],
    labels: Optional[Sequence[str]] = None,
    resume: bool = True,
    threads_per_task: int = 1,
    max_retries: int = 3,
    progress: bool = True,
    estimate: bool = False,
    probes: int = _DEFAULTS["probes"],
    strata: int = _DEFAULTS["strata"],
    confidence: float = _DEFAULTS["confidence"],
    seed: int = 0,
) -> DistributedRun:
    """Runs :func:`regionwalk.audit` over a Ray cluster and writes the rows to ``out`` (.jsonl or
    .csv). ``model`` is a path (read on the driver) or a :class:`Network`; ``points`` an n×d array
    or a points file. ``address`` follows ``ray.init``: None starts a local cluster (or uses the
    one this process already joined), ``"auto"`` or ``"host:port"`` joins one. With ``resume``
    (the default) rows already in ``out`` are kept and not recomputed, so a driver that died is
    continued by the same call. Bad points fail the call up front, as in the serial audit.
    ``estimate`` and its options add the estimate's columns as in the serial audit (the same
    seed gives the same rows)."""
    try:
        import ray
    except ImportError:
        raise ImportError("regionwalk.distributed needs Ray (pip install 'ray[default]')") from None
    net = Network.from_file(model) if isinstance(model, (str, os.PathLike)) else model
    native = _network(net)
    points, radii_list, labels = _audit_inputs(points, radii, labels)
    if chunk < 1 or threads_per_task < 1:
        raise ValueError("chunk and threads_per_task must be at least 1")
    options: Dict[str, Any] = dict(norm=norm, exact=exact, methods=list(AUDIT_METHODS if methods is None else methods),
                   max_regions=max_regions, budget=budget, threads=threads_per_task, estimate=estimate,
                   probes=probes, strata=strata, confidence=confidence, seed=seed)
    # The serial audit's own checks, up front and with its messages: options, then every point.
    _native.audit(native, points[:0], radii_list, **options)
    native.check_points(points)

    out = os.fspath(out)
    kept = _kept_rows(out, len(points), radii_list, resume)
    # The kept rows go to a new file that replaces `out` in one step: a driver killed here loses
    # nothing. The writer keeps appending to it under its final name.
    root, extension = os.path.splitext(out)
    partial = f"{root}.partial{extension}"  # the same extension: the same format
    writer = _native.ReportWriter(partial)
    writer.write(json.dumps(kept))
    os.replace(partial, out)
    done = {(r["point"], r["radius"]) for r in kept}
    work: List[Tuple[float, List[int]]] = []
    for radius in radii_list:
        missing = [i for i in range(len(points)) if (i, radius) not in done]
        work.extend((radius, missing[k:k + chunk]) for k in range(0, len(missing), chunk))

    dashboard = None
    if not ray.is_initialized():
        context = ray.init(address=address, log_to_driver=False)
        dashboard = getattr(context, "dashboard_url", None) or None
        if dashboard and progress:
            print(f"Ray dashboard: http://{dashboard}", file=sys.stderr)
    task = ray.remote(num_cpus=threads_per_task, max_retries=max_retries)(_audit_chunk)
    net_ref = ray.put(native.to_json())
    pending = {
        task.remote(net_ref, points[idx], idx, None if labels is None else [labels[i] for i in idx], radius, options):
            len(idx)
        for radius, idx in work
    }
    bar = _bar(progress, total=len(points) * len(radii_list), initial=len(kept))
    computed = 0
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                writer.write(ray.get(ref))
                rows = pending.pop(ref)
                computed += rows
                if bar is not None:
                    bar.update(rows)
    finally:
        if bar is not None:
            bar.close()
        for ref in pending:
            ray.cancel(ref, force=True)
    return DistributedRun(out, len(kept) + computed, len(kept), computed, len(work), dashboard)


def _bar(progress: bool, total: int, initial: int) -> Any:
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="rows", dynamic_ncols=True)
