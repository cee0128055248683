"""Statistical estimates of the count, for domains too large to count, beside the certified
bracket they never replace."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional, Sequence, Tuple

from . import _native
from ._common import _DEFAULTS, _domain
from .network import Network, _network  # Network: the doctests build networks


@dataclass
class EstimateResult:
    """A statistical estimate of the activation regions meeting the domain (``kind`` is always
    ``"statistical"``: not a certified count): ``mean`` is unbiased, ``estimate`` is it clamped into
    the certified bracket, with its interval ``[estimate_low, estimate_high]`` at ``confidence``, how it was obtained, its diagnostics (``reliable`` is False when a few probes
    carry the mean and the interval is likely too narrow), and the certified bracket
    ``lower <= regions <= upper`` (``upper`` None when every bound method asked for was skipped). One field per field of the CLI's ``estimate --json``
    (``EstimateReport`` in ``docs/reports.schema.json``); ``report`` holds it as it came."""

    kind: str
    method: str
    estimate: float
    estimate_low: float
    estimate_high: float
    mean: float
    confidence: float
    standard_error: float
    probes: int
    width: int
    tree: str
    strata: int
    effective_probes: float
    max_share: float
    reliable: bool
    seed: int
    lower: int
    upper: Optional[int]
    upper_method: Optional[str]
    domain: Dict[str, Any]
    units: Optional[str]
    lp_solves: int
    dual_solves: int
    seconds: float
    report: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def _from(cls, report: Dict[str, Any]) -> "EstimateResult":
        values: Dict[str, Any] = {f.name: report.get(f.name) for f in fields(cls) if f.name != "report"}
        if values["upper"] is not None:
            values["upper"] = int(values["upper"])
        return cls(**values, report=report)


def estimate(
    net: Any,
    center: Any = None,
    radius: Optional[float] = None,
    norm: str = "l2",
    *,
    box: Optional[Tuple[Any, Any]] = None,
    input_box: bool = False,
    whole: bool = False,
    clip_to_input_box: bool = False,
    probes: int = _DEFAULTS["probes"],
    strata: int = _DEFAULTS["strata"],
    confidence: float = _DEFAULTS["confidence"],
    seed: int = 0,
    width: int = _DEFAULTS["width"],
    time_limit: Optional[float] = None,
    methods: Optional[Sequence[str]] = None,
    budget: Optional[float] = _DEFAULTS["budget"],
    threads: Optional[int] = None,
) -> EstimateResult:
    """Estimates the regions meeting the domain (the keywords of :func:`count`): the top of the
    neuron cut tree is enumerated exactly (up to ``strata`` nodes) and ``probes`` probes run
    below it, each carrying ``width`` nodes down at once (1: Knuth's random paths; unbiased; the same ``seed`` gives the same answer on any number of threads;
    ``time_limit`` stops starting probes). Computes the certified bracket with the bounds of
    :func:`bound` (``methods``, ``budget``).

    >>> import numpy as np
    >>> net = Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> e = estimate(net, [0.0, 0.0], 1.0, probes=100)
    >>> e.kind, e.estimate, e.lower, e.upper
    ('statistical', 4.0, 4, 4)
    """
    report = _native.estimate(
        _network(net), _domain(center, radius, norm, box, whole, clip_to_input_box, input_box),
        probes=probes, strata=strata, confidence=confidence, seed=seed, width=width, time_limit=time_limit,
        methods=None if methods is None else list(methods), budget=budget, threads=threads,
    )
    return EstimateResult._from(json.loads(report))
