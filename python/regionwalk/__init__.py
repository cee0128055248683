"""regionwalk: count exactly, and bound soundly, the linear regions of a ReLU network in a ball.

The same Rust engine as the ``regionwalk`` command line, called directly on NumPy arrays and
PyTorch modules. Every walk releases the GIL; Ctrl-C stops it and raises :class:`Interrupted`
carrying the partial result (a certified lower bound).

>>> import numpy as np, regionwalk as rw
>>> net = rw.Network.from_layers([
...     (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -1.0])),
...     (np.array([[1.0, 1.0, 1.0]]), np.array([0.0])),
... ])
>>> rw.count(net, [0.0, 0.0], 1.0).regions
5
>>> rw.bound(net, [0.0, 0.0], 1.0, methods=["paper"]).bounds["paper"] >= 5
True
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union, cast

import numpy as np

from . import _native
from ._arrays import floats
from ._native import InternalError, RegionwalkError, SolverError, TimeLimit

__all__ = [
    "Network", "Evaluation", "CountResult", "BoundResult", "ValidateResult",
    "count", "count_box", "count_whole", "bound", "validate", "audit", "graph", "plot", "slice_regions",
    "load_points", "RegionwalkError", "SolverError", "InternalError", "TimeLimit", "Interrupted",
]

PathLike = Union[str, "os.PathLike[str]"]

#: The bound methods, in the order the CLI lists them.
METHODS = ("global", "paper", "product", "local-serra", "hybrid", "partition", "walk")
#: What an audit computes besides the exact count unless told otherwise (the cheap bounds).
AUDIT_METHODS = ("global", "paper", "product", "local-serra")


class Interrupted(KeyboardInterrupt, RegionwalkError):
    """Ctrl-C stopped a walk or an audit. ``result`` holds what was found: for a count, regions
    that certainly meet the domain (a lower bound); for an audit, the finished rows."""

    def __init__(self, result: Any):
        super().__init__("interrupted (Ctrl-C); the partial result is in .result")
        self.result = result


# --------------------------------------------------------------------------------------------
# Networks


@dataclass(frozen=True)
class Evaluation:
    """A forward pass at one point: the output, the activation pattern per hidden layer, the
    local affine map ``output = jacobian @ x + offset`` of that pattern, and whether the point
    lies on a region boundary (some pre-activation exactly zero)."""

    output: np.ndarray
    pattern: List[np.ndarray]
    jacobian: np.ndarray
    offset: np.ndarray
    on_boundary: bool


class Network:
    """A ReLU network: ``h = ReLU(W h + b)`` for every layer but the last, which is affine."""

    def __init__(self, native: "_native.Network"):
        self._native = native

    @classmethod
    def from_layers(
        cls,
        layers: Sequence[Tuple[Any, Any]],
        input_box: Optional[Tuple[Any, Any]] = None,
    ) -> "Network":
        """From ``[(W, b), ...]`` with ``W`` shaped out×in (any real dtype float64 holds
        exactly; any memory layout). ``input_box`` is an optional ``(lower, upper)``.

        >>> import numpy as np
        >>> Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
        Network(2-2-1)
        """
        converted = [
            (floats(w, f"layer {i} weight", 2), floats(b, f"layer {i} bias", 1)) for i, (w, b) in enumerate(layers)
        ]
        box = None
        if input_box is not None:
            box = (floats(input_box[0], "input_box lower", 1), floats(input_box[1], "input_box upper", 1))
        return cls(_native.Network.from_layers(converted, box))

    @classmethod
    def from_file(cls, path: PathLike, *, raw_units: bool = False) -> "Network":
        """From an ONNX, .nnet or JSON model file (format from the extension), as the CLI reads
        it. ``raw_units`` (.nnet only) folds the header's normalisation into the first layer."""
        return cls(_native.Network.from_file(os.fspath(path), raw_units))

    @classmethod
    def from_torch(cls, module: Any, *, input_shape: Optional[Tuple[int, ...]] = None, check: bool = True) -> "Network":
        """From a PyTorch module built of ``Linear``, ``ReLU``, ``Flatten``, ``Identity`` and
        ``Dropout`` (in eval mode), run in the order of its children; any other module is
        refused with its name and position. With ``check`` (the default), the result is compared
        with the module's own forward pass on random inputs of ``input_shape`` (default: the
        first ``Linear``'s ``in_features``). torch is needed only here."""
        from ._torch import network_layers

        layers = network_layers(module, input_shape=input_shape, check=check, build=cls.from_layers)
        return cls.from_layers(layers)

    @property
    def input_dim(self) -> int:
        """Number of inputs."""
        return self._native.input_dim

    @property
    def hidden_widths(self) -> List[int]:
        """Widths of the hidden (ReLU) layers."""
        return list(self._native.hidden_widths)

    @property
    def output_dim(self) -> int:
        """Number of outputs."""
        return self._native.output_dim

    @property
    def units(self) -> Optional[str]:
        """For .nnet models: "normalised" or "raw", the units points are in."""
        return self._native.units

    @property
    def input_box(self) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """The model's declared input box ``(lower, upper)``, if any."""
        return self._native.input_box

    def layers(self) -> List[Tuple[np.ndarray, np.ndarray]]:
        """The layers as ``[(W, b), ...]`` (copies)."""
        return self._native.layers()

    def to_json(self) -> str:
        """The JSON model format, readable by :meth:`from_file` and the CLI."""
        return self._native.to_json()

    def save(self, path: PathLike) -> None:
        """Writes the JSON model format to ``path`` (for the CLI)."""
        with open(path, "w") as f:
            f.write(self.to_json())

    def eval(self, x: Any) -> Evaluation:
        """Forward pass at ``x``: output, pattern, local affine map.

        >>> import numpy as np
        >>> net = Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
        >>> e = net.eval([1.0, -2.0])
        >>> e.output.tolist(), [p.tolist() for p in e.pattern], e.jacobian.tolist()
        ([1.0], [[True, False]], [[1.0, 0.0]])
        """
        out, pattern, jac, offset, boundary = self._native.eval(floats(x, "x", 1))
        return Evaluation(out, list(pattern), jac, offset, bool(boundary))

    def __call__(self, x: Any) -> np.ndarray:
        """The output at ``x``."""
        return self.eval(x).output

    def __repr__(self) -> str:
        return repr(self._native)


def _network(net: Any) -> "_native.Network":
    if isinstance(net, Network):
        return net._native
    if isinstance(net, (str, os.PathLike)):
        return Network.from_file(net)._native
    raise TypeError(f"expected a regionwalk.Network or a model path, got {type(net).__name__}")


# --------------------------------------------------------------------------------------------
# Domains and progress


def _ball(center: Any, radius: float, norm: str, clip: bool) -> "_native.Domain":
    return _native.Domain.ball(floats(center, "center", 1), _radius(radius), norm, clip)


def _radius(radius: Any) -> float:
    if isinstance(radius, (bool, np.bool_)) or not isinstance(radius, (int, float, np.integer, np.floating)):
        raise TypeError(f"radius: expected a number, got {type(radius).__name__}")
    return float(radius)


def _domain(
    center: Any = None,
    radius: Any = None,
    norm: str = "l2",
    box: Optional[Tuple[Any, Any]] = None,
    whole: bool = False,
    clip_to_input_box: bool = False,
) -> "_native.Domain":
    """The domain of bound/validate/graph: a ball, ``box=(lower, upper)``, or ``whole=True``."""
    given = sum([center is not None or radius is not None, box is not None, bool(whole)])
    if given != 1:
        raise ValueError("choose one domain: center and radius (a ball), box=(lower, upper), or whole=True")
    if box is not None:
        if clip_to_input_box:
            raise ValueError("clip_to_input_box applies to balls only")
        return _native.Domain.boxed(floats(box[0], "box lower", 1), floats(box[1], "box upper", 1))
    if whole:
        return _native.Domain.whole()
    if center is None or radius is None:
        raise ValueError("a ball needs both center and radius")
    return _ball(center, radius, norm, clip_to_input_box)


class _Progress:
    """A progress callback for the engine: a tqdm bar when tqdm is installed (``progress=True``),
    or the user's own callable."""

    def __init__(self, progress: Union[bool, Callable[..., Any]], unit: str, total: bool):
        self.callback: Optional[Callable[..., Any]] = None
        self.bar: Any = None
        if callable(progress):
            self.callback = progress
        elif progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                warnings.warn("progress=True needs tqdm (pip install tqdm); no progress is shown", stacklevel=3)
                return
            self.bar = tqdm(unit=unit, dynamic_ncols=True)
            self.callback = self._bar_total if total else self._bar_walk

    def _bar_walk(self, regions: int, frontier: int, lp_solves: int) -> None:
        self.bar.update(regions - self.bar.n)
        self.bar.set_postfix(frontier=frontier, lp=lp_solves, refresh=False)

    def _bar_total(self, done: int, total: int, _unused: int) -> None:
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def __enter__(self) -> Optional[Callable[..., Any]]:
        return self.callback

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------------------------
# Counting


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
    center: Any,
    radius: float,
    norm: str = "l2",
    *,
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
) -> CountResult:
    """Counts the activation regions meeting the open ball ``‖x - center‖ < radius`` (norm
    ``"l2"`` or ``"linf"``). ``patterns``/``witnesses`` add a bool array (regions × neurons) and
    a float array (regions × inputs) of points strictly inside each region. ``linear`` also
    counts the linear regions of the function; ``certify`` re-checks every region in exact
    rational arithmetic. Budgets (``max_regions``, ``time_limit``) give ``complete=False`` and a
    certified lower bound; ``checkpoint``/``resume`` save and continue a long walk. ``engine``:
    ``"auto"`` partitions L-inf balls and boxes of at most 8 inputs and walks otherwise,
    ``"walk"`` or ``"partition"`` force one (the count is the same; ``result.engine`` says which
    ran).

    >>> import numpy as np
    >>> net = Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> r = count(net, [0.0, 0.0], 1.0, patterns=True)
    >>> r.regions, r.complete, r.patterns.shape
    (4, True, (4, 2))
    """
    return _count(
        net, _ball(center, radius, norm, clip_to_input_box), progress,
        max_regions=max_regions, time_limit=time_limit, threads=threads, certify=certify, linear=linear,
        patterns=patterns, witnesses=witnesses, checkpoint=_path(checkpoint), resume=_path(resume), engine=engine,
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
) -> CountResult:
    """Counts the regions meeting the open box ``lower < x < upper`` (default: the model's own
    input box). A coordinate with ``lower == upper`` is fixed: the regions of that slice are
    counted, as for VNN-COMP properties that write ``X_i = c``. Options as in :func:`count`."""
    if (lower is None) != (upper is None):
        raise ValueError("give both lower and upper, or neither (the model's input box)")
    domain = (
        _native.Domain.input_box()
        if lower is None
        else _native.Domain.boxed(floats(lower, "lower", 1), floats(upper, "upper", 1))
    )
    return _count(
        net, domain, progress, max_regions=max_regions, time_limit=time_limit, threads=threads, certify=certify,
        linear=linear, patterns=patterns, witnesses=witnesses, checkpoint=_path(checkpoint), resume=_path(resume),
        engine=engine,
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
    """Counts every activation region of the whole input space (small networks only)."""
    return _count(
        net, _native.Domain.whole(), progress, max_regions=max_regions, time_limit=time_limit, threads=threads,
        linear=linear, patterns=patterns, witnesses=witnesses,
    )


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


# --------------------------------------------------------------------------------------------
# Bounds and validation


@dataclass
class BoundResult:
    """Sound upper bounds per method as exact Python ints, the best of them, and a certified
    lower bound (from sampling, the hybrid prefix walk or a budgeted region walk); ``exact`` is the
    count when that walk finished within the budget (it is then also the ``walk`` bound). ``report`` is the CLI's ``bound --json``
    object."""

    bounds: Dict[str, int]
    best: Optional[Tuple[str, int]]
    lower: int
    lower_source: str
    skipped: Dict[str, str]
    exact: Optional[int] = None
    report: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def _from(cls, report: Dict[str, Any]) -> "BoundResult":
        best = report.get("best")
        return cls(
            bounds={b["method"]: int(b["value"]) for b in report["bounds"]},
            best=None if best is None else (best["method"], int(best["value"])),
            lower=int(report["lower"]["value"]),
            lower_source=report["lower"]["source"],
            skipped={s["method"]: s["reason"] for s in report["skipped"]},
            exact=report.get("exact"),
            report=report,
        )


def bound(
    net: Any,
    center: Any = None,
    radius: Optional[float] = None,
    norm: str = "l2",
    *,
    box: Optional[Tuple[Any, Any]] = None,
    whole: bool = False,
    clip_to_input_box: bool = False,
    methods: Optional[Sequence[str]] = None,
    samples: int = 2000,
    hybrid_layers: int = 1,
    hybrid_max_regions: int = 2000,
    budget: Optional[float] = 0.5,
    threads: Optional[int] = None,
) -> BoundResult:
    """Sound upper bounds on the regions meeting the ball (or ``box=(lower, upper)``, or
    ``whole=True``), one per method (default: all of :data:`METHODS`), as exact ints. ``budget``
    (seconds, None for no limit) bounds the whole computation: the cheap methods always run, the
    expensive ``walk`` (half of what is left; its count when it finishes), ``partition`` (up to 8
    inputs) and ``hybrid`` only in what is left, and are listed in ``skipped`` if it runs out
    (``walk`` runs only with a budget).

    >>> import numpy as np
    >>> net = Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> b = bound(net, [0.0, 0.0], 1.0, methods=["global", "paper"])
    >>> b.bounds["global"], b.lower
    (4, 4)
    """
    report = _native.bound(
        _network(net), _domain(center, radius, norm, box, whole, clip_to_input_box),
        methods=None if methods is None else list(methods), samples=samples, hybrid_layers=hybrid_layers,
        hybrid_max_regions=hybrid_max_regions, budget=budget, threads=threads,
    )
    return BoundResult._from(json.loads(report))


@dataclass
class ValidateResult:
    """An exact count with every bound and each bound's ratio to the count."""

    count: CountResult
    bounds: BoundResult
    ratios: Dict[str, float]
    report: Dict[str, Any] = field(default_factory=dict, repr=False)


def validate(
    net: Any,
    center: Any = None,
    radius: Optional[float] = None,
    norm: str = "l2",
    *,
    box: Optional[Tuple[Any, Any]] = None,
    whole: bool = False,
    clip_to_input_box: bool = False,
    methods: Optional[Sequence[str]] = None,
    samples: int = 2000,
    hybrid_layers: int = 1,
    hybrid_max_regions: int = 2000,
    budget: Optional[float] = 0.5,
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    linear: bool = False,
    progress: Union[bool, Callable[..., Any]] = False,
) -> ValidateResult:
    """The exact count and every bound on the same domain; raises :class:`InternalError` if a
    bound falls below the count (a soundness bug)."""
    with _Progress(progress, "regions", total=False) as callback:
        text = _native.validate(
            _network(net), _domain(center, radius, norm, box, whole, clip_to_input_box),
            methods=None if methods is None else list(methods), samples=samples, hybrid_layers=hybrid_layers,
            hybrid_max_regions=hybrid_max_regions, budget=budget, max_regions=max_regions, time_limit=time_limit,
            threads=threads, linear=linear, progress=callback,
        )
    report = json.loads(text)
    result = ValidateResult(CountResult._from(report), BoundResult._from(report), report["ratios"], report)
    if result.count.stopped_by == "interrupted":
        raise Interrupted(result)
    return result


# --------------------------------------------------------------------------------------------
# Audits

#: Columns of an audit, as in the CLI's CSV report.
AUDIT_COLUMNS = (
    "point", "label", "radius", "norm", "regions", "complete", "boundary_distance",
    "boundary_layer", "boundary_neuron", "paper", "best", "seconds",
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
    max_regions: int = 100_000,
    budget: Optional[float] = 0.5,
    labels: Optional[Sequence[str]] = None,
    out: Optional[PathLike] = None,
    resume: bool = False,
    shard: Optional[Tuple[int, int]] = None,
    threads: Optional[int] = None,
    progress: Union[bool, Callable[..., Any]] = False,
    as_frame: Optional[bool] = None,
) -> Any:
    """Audits the neighbourhoods of ``points`` (an n×d array, or a points file as the CLI reads
    it) at every radius: the exact count (``exact``; ``complete`` False past ``max_regions``),
    the distance to the nearest region boundary, and bounds (``methods``; default the cheap
    ones, ``[]`` for none; ``budget`` seconds per record for an expensive one). Returns columns (:data:`AUDIT_COLUMNS`): a pandas DataFrame when
    pandas is installed (``as_frame=None``), else a dict of NumPy arrays. With ``out`` (.jsonl or
    .csv) rows are also written as the CLI writes them, and ``resume=True`` keeps the rows
    already there. ``shard=(i, n)`` (0-based) takes points with ``index % n == i``."""
    points, radii_list, labels = _audit_inputs(points, radii, labels)
    with _Progress(progress, "rows", total=True) as callback:
        text, stopped = _native.audit(
            _network(net), points, radii_list, norm=norm, exact=exact,
            methods=list(AUDIT_METHODS if methods is None else methods), max_regions=max_regions,
            budget=budget, labels=labels, out=_path(out), resume=resume, shard=(0, 1) if shard is None else (int(shard[0]), int(shard[1])),
            threads=threads, progress=callback,
        )
    result = _columns(json.loads(text), radii_list, as_frame)
    if stopped:
        raise Interrupted(result)
    return result


# --------------------------------------------------------------------------------------------
# Graphs and pictures


def graph(
    net: Any,
    center: Any = None,
    radius: Optional[float] = None,
    norm: str = "l2",
    *,
    box: Optional[Tuple[Any, Any]] = None,
    whole: bool = False,
    clip_to_input_box: bool = False,
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    progress: Union[bool, Callable[..., Any]] = False,
    as_networkx: Optional[bool] = None,
) -> Any:
    """The region adjacency graph: one node per region meeting the domain (attributes
    ``pattern``, ``witness``, ``inradius``, ``map_id``, ``linear_region``), one edge per shared
    facet inside it (``flipped``: the (layer, neuron) pairs that flip). A ``networkx.Graph``
    when networkx is installed (``as_networkx=None``); else a dict of arrays (``edges`` m×2,
    ``witness``, ``inradius``, ``map_id``, ``linear_region``, ``patterns``, ``flipped``)."""
    with _Progress(progress, "regions", total=False) as callback:
        text, count_text = _native.graph(
            _network(net), _domain(center, radius, norm, box, whole, clip_to_input_box),
            max_regions=max_regions, time_limit=time_limit, threads=threads, progress=callback,
        )
    g, summary = json.loads(text), CountResult._from(json.loads(count_text))
    if summary.stopped_by == "interrupted":
        raise Interrupted(summary)
    nodes = [n["region"] for n in g["nodes"]]
    if as_networkx is None or as_networkx:
        try:
            import networkx as nx
        except ImportError:
            if as_networkx:
                raise ImportError("as_networkx=True needs networkx (pip install networkx)") from None
        else:
            G = nx.Graph(complete=summary.complete, regions=summary.regions)
            for i, n in enumerate(nodes):
                G.add_node(
                    i, pattern=[np.asarray(l, dtype=bool) for l in n["pattern"]],
                    witness=np.asarray(n["witness"]), inradius=n["inradius"], map_id=n["map_id"],
                    linear_region=n["linear_region"],
                )
            for e in g["edges"]:
                G.add_edge(e["source"], e["target"], flipped=[tuple(f) for f in e["flipped"]])
            return G
    return {
        "edges": np.asarray([[e["source"], e["target"]] for e in g["edges"]], dtype=np.int64).reshape(-1, 2),
        "flipped": [[tuple(f) for f in e["flipped"]] for e in g["edges"]],
        "witness": np.asarray([n["witness"] for n in nodes], dtype=np.float64).reshape(len(nodes), -1),
        "inradius": np.asarray([n["inradius"] for n in nodes], dtype=np.float64),
        "map_id": np.asarray([n["map_id"] for n in nodes], dtype=np.int64),
        "linear_region": np.asarray([n["linear_region"] for n in nodes], dtype=np.int64),
        "patterns": np.asarray([np.concatenate([np.asarray(l, dtype=bool) for l in n["pattern"]]) for n in nodes],
                               dtype=bool).reshape(len(nodes), -1),
        "complete": summary.complete,
    }


@dataclass
class Slice:
    """The exact regions of a plane through the centre, inside the ball: polygons in plane
    coordinates ``(s, t)`` (the point ``center + s·u + t·v``) with their patterns, and the
    number of regions of the whole ball (with whether that count is complete)."""

    polygons: List[np.ndarray]
    patterns: List[np.ndarray]
    u: np.ndarray
    v: np.ndarray
    radius: float
    norm: str
    ball_regions: Optional[Tuple[int, bool]]


def slice_regions(
    net: Any,
    center: Any,
    radius: float,
    norm: str = "l2",
    *,
    plane: str = "axes:0,1",
    through: Optional[Tuple[Any, Any]] = None,
    ball_count: bool = True,
    out: Optional[PathLike] = None,
    title: Optional[str] = None,
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
) -> Slice:
    """The exact 2-D slice that :func:`plot` draws. ``plane`` is ``"axes:I,J"``,
    ``"random[:SEED]"`` or ``"points"`` (with ``through=(p, q)``). With ``out`` (.png or .svg),
    the CLI's picture is written too."""
    if through is not None:
        through = (floats(through[0], "through[0]", 1), floats(through[1], "through[1]", 1))
    polygons, (u, v), ball = _native.plot_slice(
        _network(net), floats(center, "center", 1), _radius(radius), norm=norm, plane=plane, through=through,
        out=_path(out), title=title, ball_count=ball_count, max_regions=max_regions, time_limit=time_limit,
        threads=threads,
    )
    return Slice(
        [p for p, _ in polygons], [q for _, q in polygons], np.asarray(u), np.asarray(v), float(radius), norm,
        None if ball is None else (int(ball[0]), bool(ball[1])),
    )


def plot(
    net: Any,
    center: Any,
    radius: float,
    norm: str = "l2",
    *,
    plane: str = "axes:0,1",
    through: Optional[Tuple[Any, Any]] = None,
    out: Optional[PathLike] = None,
    ax: Any = None,
    ball_count: bool = True,
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
) -> Any:
    """Draws the regions of a plane slice through ``center`` inside the ball, one colour per
    region. With ``out`` (.png or .svg) the CLI's picture is written and None returned;
    otherwise a matplotlib Figure (drawn into ``ax`` if given) is returned."""
    s = slice_regions(
        net, center, radius, norm, plane=plane, through=through, ball_count=ball_count, out=out,
        max_regions=max_regions, time_limit=time_limit, threads=threads,
    )
    if out is not None:
        return None
    try:
        import matplotlib.pyplot as plt
        from matplotlib.patches import Polygon
    except ImportError:
        raise ImportError("plot() without out= needs matplotlib (pip install matplotlib)") from None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 6))
    else:
        fig = ax.figure
    cmap = plt.get_cmap("tab20")
    for i, poly in enumerate(s.polygons):
        ax.add_patch(Polygon(poly, closed=True, facecolor=cmap(i % 20), edgecolor="black", linewidth=0.5))
    ax.plot([0], [0], "k+")
    ax.set_xlim(-radius * 1.05, radius * 1.05)
    ax.set_ylim(-radius * 1.05, radius * 1.05)
    ax.set_aspect("equal")
    title = f"{len(s.polygons)} regions in the slice ({plane})"
    if s.ball_regions is not None:
        n, complete = s.ball_regions
        title += f"; {'' if complete else 'at least '}{n} in the ball"
    ax.set_title(title)
    return fig
