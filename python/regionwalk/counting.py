"""Exact counts: in a ball, a box, or the whole input space."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
import json
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _native
from ._common import Interrupted, PathLike, _domain, _Progress, _path
from .network import Network, _network  # Network: the doctests build networks


@dataclass
class CountResult:
    """An exact count, or with ``complete`` False a certified lower bound (``stopped_by`` says
    which budget stopped it; None with ``unverified`` regions dropped). One field per field of the
    CLI's ``count --json`` report (``CountReport`` in ``docs/reports.schema.json``), which
    ``report`` holds as it came; ``patterns`` and ``witnesses`` are the arrays asked for."""

    regions: int
    complete: bool
    stopped_by: Optional[str]
    domain: str
    fixed: List[int]
    norm: Optional[str]
    center: Optional[List[float]]
    radius: Optional[float]
    lp_solves: int
    qp_solves: int
    dual_solves: int
    dual_fallbacks: int
    reused_refutations: int
    touching: int
    unverified: int
    screened: int
    known_neighbours: int
    collision_bound: Optional[float]
    spilled_regions: int
    start: Optional[np.ndarray]
    seconds: float
    engine: str
    units: Optional[str]
    linear_regions: Optional[int] = None
    certified: Optional[int] = None
    uncertified: Optional[List[Dict[str, Any]]] = None
    patterns: Optional[np.ndarray] = field(default=None, repr=False)
    witnesses: Optional[np.ndarray] = field(default=None, repr=False)
    report: Dict[str, Any] = field(default_factory=dict, repr=False)

    #: Fields of the Python side only (not in the report).
    _LOCAL = ("patterns", "witnesses", "report")

    @classmethod
    def _from(cls, report: Dict[str, Any], patterns: Any = None, witnesses: Any = None) -> "CountResult":
        values: Dict[str, Any] = {f.name: report.get(f.name) for f in fields(cls) if f.name not in cls._LOCAL}
        if values["start"] is not None:
            values["start"] = np.asarray(values["start"], dtype=np.float64)
        return cls(**values, patterns=patterns, witnesses=witnesses, report=report)


def _count(net: Any, domain: "_native.Domain", progress: Any, **options: Any) -> CountResult:
    with _Progress(progress, "regions", total=False) as callback:
        text, patterns, witnesses = _native.count(_network(net), domain, progress=callback, **options)
    result = CountResult._from(json.loads(text), patterns, witnesses)
    if result.stopped_by == "interrupted":
        raise Interrupted(result)
    return result


def count(
    net: Any,
    center: Any = None,
    radius: Optional[float] = None,
    norm: str = "l2",
    *,
    box: Optional[Tuple[Any, Any]] = None,
    input_box: bool = False,
    whole: bool = False,
    clip_to_input_box: bool = False,
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    certify: bool = False,
    linear: bool = False,
    patterns: bool = False,
    witnesses: bool = False,
    progress: Union[bool, Callable[..., Any]] = False,
    checkpoint: Optional[PathLike] = None,
    resume: Optional[PathLike] = None,
    engine: str = "auto",
    visited: str = "auto",
) -> CountResult:
    """Counts the activation regions meeting the open ball ``‖x - center‖ < radius`` (norm
    ``"l2"`` or ``"linf"``), or the domain named by the keywords every question shares:
    ``box=(lower, upper)``, ``input_box=True`` or ``whole=True``. ``patterns``/``witnesses`` add a bool array (regions × neurons) and
    a float array (regions × inputs) of points strictly inside each region. ``linear`` also
    counts the linear regions of the function; ``certify`` re-checks every region in exact
    rational arithmetic. Budgets (``max_regions``, ``time_limit``) give ``complete=False`` and a
    certified lower bound; ``checkpoint``/``resume`` save and continue a long walk. ``engine``:
    ``"auto"`` partitions L-inf balls and boxes of at most 8 inputs, lists the whole space of a
    network with one hidden layer as a hyperplane arrangement (no LP) and walks otherwise,
    ``"walk"``, ``"partition"`` or ``"arrangement"`` force one (the count is the same;
    ``result.engine`` says which ran). ``visited``: how the walk tells regions apart, ``"patterns"`` (exact), ``"fingerprints"``
    (16 bytes per region; ``collision_bound`` bounds the chance that one was not counted) or
    ``"auto"`` (patterns up to 1024 neurons); ``certify`` keeps exact patterns. Without
    ``patterns``, ``witnesses``, ``linear`` or ``certify`` only the count is kept.

    >>> import numpy as np
    >>> net = Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> r = count(net, [0.0, 0.0], 1.0, patterns=True)
    >>> r.regions, r.complete, r.patterns.shape
    (4, True, (4, 2))
    """
    return _count(
        net, _domain(center, radius, norm, box, whole, clip_to_input_box, input_box), progress,
        max_regions=max_regions, time_limit=time_limit, threads=threads, certify=certify, linear=linear,
        patterns=patterns, witnesses=witnesses, checkpoint=_path(checkpoint), resume=_path(resume), engine=engine,
        visited=visited,
    )


def count_box(
    net: Any,
    lower: Any = None,
    upper: Any = None,
    *,
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    certify: bool = False,
    linear: bool = False,
    patterns: bool = False,
    witnesses: bool = False,
    progress: Union[bool, Callable[..., Any]] = False,
    checkpoint: Optional[PathLike] = None,
    resume: Optional[PathLike] = None,
    engine: str = "auto",
    visited: str = "auto",
) -> CountResult:
    """``count(net, box=(lower, upper))``, or with neither bound ``count(net, input_box=True)``: the
    regions meeting the open box ``lower < x < upper``. A coordinate with ``lower == upper`` is
    fixed: the regions of that slice are counted, as for VNN-COMP properties that write ``X_i = c``.
    Options as in :func:`count`."""
    if (lower is None) != (upper is None):
        raise ValueError("give both lower and upper, or neither (the model's input box)")
    return count(
        net, box=None if lower is None else (lower, upper), input_box=lower is None, max_regions=max_regions,
        time_limit=time_limit, threads=threads, certify=certify, linear=linear, patterns=patterns,
        witnesses=witnesses, progress=progress, checkpoint=checkpoint, resume=resume, engine=engine,
        visited=visited,
    )


def count_whole(
    net: Any,
    *,
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    linear: bool = False,
    patterns: bool = False,
    witnesses: bool = False,
    progress: Union[bool, Callable[..., Any]] = False,
) -> CountResult:
    """``count(net, whole=True)``: every activation region of the whole input space (small
    networks only)."""
    return count(
        net, whole=True, max_regions=max_regions, time_limit=time_limit, threads=threads, linear=linear,
        patterns=patterns, witnesses=witnesses, progress=progress,
    )


def read_regions(path: PathLike) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reads a region file written by ``regionwalk count --save-regions FILE`` (JSON Lines, one
    region per line: ``{"pattern": "0110…", "witness": [...] or null, "inradius": r or null}``, in
    the order the count found them). Returns ``(patterns, witnesses, inradii)``: a bool array
    (regions × neurons), a float array (regions × inputs, NaN rows for regions a budget left
    unexpanded) and a float array (NaN likewise).

    The file is read line by line, so it can be larger than the arrays' text."""
    patterns: List[np.ndarray] = []
    witnesses: List[Optional[List[float]]] = []
    inradii: List[float] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                region = json.loads(line)
                bits = region["pattern"]
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}: line {number} is not a region: {e}") from None
            patterns.append(np.frombuffer(bits.encode("ascii"), dtype=np.uint8) == ord("1"))
            witnesses.append(region.get("witness"))
            inradius = region.get("inradius")
            inradii.append(np.nan if inradius is None else float(inradius))
    inputs = max((len(w) for w in witnesses if w is not None), default=0)
    w = np.full((len(witnesses), inputs), np.nan)
    for i, x in enumerate(witnesses):
        if x is not None:
            w[i] = x
    neurons = len(patterns[0]) if patterns else 0
    p = np.array(patterns, dtype=bool).reshape(len(patterns), neurons)
    return p, w, np.array(inradii, dtype=float)
