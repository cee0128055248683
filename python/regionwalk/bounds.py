"""Sound upper bounds, and validation against the exact count."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

from . import _native
from ._common import _DEFAULTS, Interrupted, _domain, _Progress
from .counting import CountResult
from .network import Network, _network  # Network: the doctests build networks

#: The bound methods, in the order the CLI lists them.
METHODS = ("global", "paper", "product", "local-serra", "hybrid", "partition", "walk")


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
    #: A statistical estimate (not certified) beside the bracket ``lower ≤ regions ≤ best``, made
    #: when the bracket is not closed: ``(estimate, interval low, interval high)`` clamped into the
    #: bracket, or None. :func:`regionwalk.estimate` gives its diagnostics.
    estimate: Optional[Tuple[float, float, float]] = None
    estimate_reliable: Optional[bool] = None
    report: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def _from(cls, report: Dict[str, Any]) -> "BoundResult":
        best = report.get("best")
        estimate = report.get("estimate")
        return cls(
            bounds={b["method"]: int(b["value"]) for b in report["bounds"]},
            best=None if best is None else (best["method"], int(best["value"])),
            lower=int(report["lower"]["value"]),
            lower_source=report["lower"]["source"],
            skipped={s["method"]: s["reason"] for s in report["skipped"]},
            exact=report.get("exact"),
            estimate=None if estimate is None else (estimate, report["estimate_low"], report["estimate_high"]),
            estimate_reliable=report.get("estimate_reliable"),
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
    input_box: bool = False,
    clip_to_input_box: bool = False,
    methods: Optional[Sequence[str]] = None,
    samples: int = _DEFAULTS["samples"],
    hybrid_layers: int = _DEFAULTS["hybrid_layers"],
    hybrid_max_regions: int = _DEFAULTS["hybrid_max_regions"],
    budget: Optional[float] = _DEFAULTS["budget"],
    threads: Optional[int] = None,
    estimate: bool = True,
    probes: int = _DEFAULTS["probes"],
    strata: int = _DEFAULTS["strata"],
    confidence: float = _DEFAULTS["confidence"],
    seed: int = 0,
) -> BoundResult:
    """Sound upper bounds on the regions meeting the ball (or the domain of ``box=``,
    ``input_box=`` or ``whole=``, as in :func:`count`), one per method (default: all of :data:`METHODS`), as exact ints. ``budget``
    (seconds, None for no limit) bounds the whole computation: the cheap methods always run, the
    expensive ``walk`` (half of what is left; its count when it finishes), ``partition`` (up to 8
    inputs) and ``hybrid`` only in what is left, and are listed in ``skipped`` if it runs out
    (``walk`` runs only with a budget). When the bracket ``lower ≤ regions ≤ best`` is not closed,
    a statistical estimate (``estimate``: ``probes``, ``strata``, ``confidence``, ``seed`` as for
    :func:`regionwalk.estimate`, within ``budget`` again) is reported beside it.

    >>> import numpy as np
    >>> net = Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> b = bound(net, [0.0, 0.0], 1.0, methods=["global", "paper"])
    >>> b.bounds["global"], b.lower
    (4, 4)
    """
    report = _native.bound(
        _network(net), _domain(center, radius, norm, box, whole, clip_to_input_box, input_box),
        methods=None if methods is None else list(methods), samples=samples, hybrid_layers=hybrid_layers,
        hybrid_max_regions=hybrid_max_regions, budget=budget, threads=threads,
        estimate=estimate, probes=probes, strata=strata, confidence=confidence, seed=seed,
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
    input_box: bool = False,
    clip_to_input_box: bool = False,
    methods: Optional[Sequence[str]] = None,
    samples: int = _DEFAULTS["samples"],
    hybrid_layers: int = _DEFAULTS["hybrid_layers"],
    hybrid_max_regions: int = _DEFAULTS["hybrid_max_regions"],
    budget: Optional[float] = _DEFAULTS["budget"],
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    linear: bool = False,
    progress: Union[bool, Callable[..., Any]] = False,
    estimate: bool = True,
    probes: int = _DEFAULTS["probes"],
    strata: int = _DEFAULTS["strata"],
    confidence: float = _DEFAULTS["confidence"],
    seed: int = 0,
) -> ValidateResult:
    """The exact count and every bound on the same domain; raises :class:`InternalError` if a
    bound falls below the count (a soundness bug). When the walk does not finish, a statistical
    estimate is reported beside the bracket (``bounds.estimate``; as for :func:`bound`)."""
    with _Progress(progress, "regions", total=False) as callback:
        text = _native.validate(
            _network(net), _domain(center, radius, norm, box, whole, clip_to_input_box, input_box),
            methods=None if methods is None else list(methods), samples=samples, hybrid_layers=hybrid_layers,
            hybrid_max_regions=hybrid_max_regions, budget=budget, max_regions=max_regions, time_limit=time_limit,
            threads=threads, linear=linear, progress=callback,
            estimate=estimate, probes=probes, strata=strata, confidence=confidence, seed=seed,
        )
    report = json.loads(text)
    result = ValidateResult(CountResult._from(report), BoundResult._from(report), report["ratios"], report)
    if result.count.stopped_by == "interrupted":
        raise Interrupted(result)
    return result
