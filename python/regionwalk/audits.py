"""Audits: counts, bounds and boundary distances at many points and radii."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union, cast

import numpy as np

from . import _native
from ._arrays import floats
from ._common import _DEFAULTS, Interrupted, PathLike, _path, _Progress
from .network import _network

#: What an audit computes besides the exact count unless told otherwise (the cheap bounds).
AUDIT_METHODS = ("global", "paper", "product", "local-serra")


#: Columns of an audit, as in the CLI's CSV report.
AUDIT_COLUMNS = (
    "point", "label", "radius", "norm", "regions", "complete", "boundary_distance",
    "boundary_layer", "boundary_neuron", "paper", "best", "estimate", "estimate_low", "estimate_high",
    "estimate_reliable", "seconds",
)


def load_points(path: PathLike, label_column: Optional[str] = None) -> Tuple[np.ndarray, Optional[List[str]]]:
    """Reads points as ``regionwalk audit --points`` does (.npy, .csv, .json); ``label_column``
    ("first" or "last") names a CSV label column. Returns ``(points, labels)``."""
    points, labels = _native.load_points(os.fspath(path), label_column)
    return points, labels


def _column(values: List[Any], dtype: Any) -> np.ndarray:
    """A typed column where every value is present; an object column (None for missing) else.
    Bounds are exact Python ints, so they stay objects."""
    if dtype is not object and all(v is not None for v in values):
        return np.asarray(values, dtype=dtype)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _columns(records: List[Dict[str, Any]], radii: Sequence[float], as_frame: Optional[bool]) -> Any:
    order = {float(r): i for i, r in enumerate(radii)}
    records = sorted(records, key=lambda r: (r["point"], order.get(r["radius"], len(order)), r["radius"]))
    neuron = [r["boundary_neuron"] for r in records]
    columns = {
        "point": _column([r["point"] for r in records], np.int64),
        "label": _column([r["label"] for r in records], object),
        "radius": _column([r["radius"] for r in records], np.float64),
        "norm": _column([r["norm"] for r in records], object),
        "regions": _column([r["regions"] for r in records], np.int64),
        "complete": _column([r["complete"] for r in records], bool),
        "boundary_distance": _column([r["boundary_distance"] for r in records], np.float64),
        "boundary_layer": _column([None if n is None else n[0] for n in neuron], np.int64),
        "boundary_neuron": _column([None if n is None else n[1] for n in neuron], np.int64),
        "paper": _column([None if r["paper"] is None else int(r["paper"]) for r in records], object),
        "best": _column([None if r["best"] is None else int(r["best"]) for r in records], object),
        **{k: _column([r[k] for r in records], np.float64) for k in ("estimate", "estimate_low", "estimate_high")},
        "estimate_reliable": _column([r["estimate_reliable"] for r in records], bool),
        "seconds": _column([r["seconds"] for r in records], np.float64),
    }
    if as_frame is None or as_frame:
        try:
            import pandas as pd
        except ImportError:
            if as_frame:
                raise ImportError("as_frame=True needs pandas (pip install pandas)") from None
            return columns
        return pd.DataFrame(columns)
    return columns


def _audit_inputs(points: Any, radii: Any, labels: Optional[Sequence[str]]
                  ) -> Tuple[np.ndarray, List[float], Optional[List[str]]]:
    """An audit's points (an array, or a points file with its labels), radii and labels."""
    if isinstance(points, (str, os.PathLike)):
        points, file_labels = load_points(points)
        labels = labels if labels is not None else file_labels
    points = floats(points, "points", 2)
    radii_list = [float(cast(Any, radii))] if np.isscalar(radii) else [float(r) for r in cast(Sequence[float], radii)]
    if labels is not None:
        labels = [str(l) for l in labels]
        if len(labels) != len(points):
            raise ValueError(f"invalid point: {len(labels)} labels for {len(points)} points")
    return points, radii_list, labels


def audit(
    net: Any,
    points: Any,
    radii: Union[float, Sequence[float]],
    exact: bool = True,
    *,
    norm: str = "l2",
    methods: Optional[Sequence[str]] = None,
    max_regions: int = _DEFAULTS["audit_max_regions"],
    budget: Optional[float] = _DEFAULTS["budget"],
    labels: Optional[Sequence[str]] = None,
    out: Optional[PathLike] = None,
    resume: bool = False,
    shard: Optional[Tuple[int, int]] = None,
    threads: Optional[int] = None,
    progress: Union[bool, Callable[..., Any]] = False,
    as_frame: Optional[bool] = None,
    estimate: bool = False,
    probes: int = _DEFAULTS["probes"],
    strata: int = _DEFAULTS["strata"],
    confidence: float = _DEFAULTS["confidence"],
    seed: int = 0,
) -> Any:
    """Audits the neighbourhoods of ``points`` (an n×d array, or a points file as the CLI reads
    it) at every radius: the exact count (``exact``; ``complete`` False past ``max_regions``),
    the distance to the nearest region boundary, and bounds (``methods``; default the cheap
    ones, ``[]`` for none; ``budget`` seconds per record for an expensive one). Returns columns (:data:`AUDIT_COLUMNS`): a pandas DataFrame when
    pandas is installed (``as_frame=None``), else a dict of NumPy arrays. With ``out`` (.jsonl or
    .csv) rows are also written as the CLI writes them, and ``resume=True`` keeps the rows
    already there. ``shard=(i, n)`` (0-based) takes points with ``index % n == i``. With
    ``estimate=True``, every row whose walk did not finish also gets a statistical estimate
    (columns ``estimate``, ``estimate_low``, ``estimate_high``, ``estimate_reliable``; within
    ``budget`` seconds; ``probes``, ``strata``, ``confidence``, ``seed`` as for :func:`regionwalk.estimate`)."""
    points, radii_list, labels = _audit_inputs(points, radii, labels)
    with _Progress(progress, "rows", total=True) as callback:
        text, stopped = _native.audit(
            _network(net), points, radii_list, norm=norm, exact=exact,
            methods=list(AUDIT_METHODS if methods is None else methods), max_regions=max_regions,
            budget=budget, labels=labels, out=_path(out), resume=resume, shard=(0, 1) if shard is None else (int(shard[0]), int(shard[1])),
            threads=threads, progress=callback, estimate=estimate, probes=probes, strata=strata, confidence=confidence,
            seed=seed,
        )
    result = _columns(json.loads(text), radii_list, as_frame)
    if stopped:
        raise Interrupted(result)
    return result


def audit_compare(
    a: PathLike,
    b: PathLike,
    *,
    paired: bool = False,
    resamples: int = _DEFAULTS["compare_resamples"],
    confidence: float = _DEFAULTS["confidence"],
    seed: int = 0,
) -> Dict[str, Any]:
    """Compares two audit reports (files written by :func:`audit` with ``out=`` or by the CLI), as
    ``regionwalk audit-compare --json`` does: per quantity (``boundary_distance``, and
    ``per_radius`` counts) the groups' summaries, a two-sided rank test (Mann-Whitney U; with
    ``paired=True`` the same points matched by index and the Wilcoxon signed-rank test) and Cliff's
    delta, the Hodges-Lehmann shift and the ratio of medians of A against B, each with a
    percentile bootstrap interval (``resamples``, ``confidence``, ``seed``). Returns the report as
    a dict (docs/reports.md, ``AuditComparison``)."""
    text = _native.audit_compare(os.fspath(a), os.fspath(b), bool(paired), int(resamples), float(confidence),
                                 int(seed))
    return cast(Dict[str, Any], json.loads(text))
