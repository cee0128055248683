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

from ._common import Interrupted
from ._native import InternalError, RegionwalkError, SolverError, TimeLimit
from .audits import AUDIT_COLUMNS, AUDIT_METHODS, audit, audit_compare, load_points
from .bounds import METHODS, BoundResult, ValidateResult, bound, validate
from .counting import CountResult, count, count_box, count_whole, read_regions
from .estimating import EstimateResult, estimate
from .graphs import graph, read_graph
from .network import Evaluation, Network
from .plotting import Slice, plot, slice_regions

__all__ = [
    "Network", "Evaluation", "CountResult", "BoundResult", "ValidateResult", "EstimateResult", "Slice",
    "count", "count_box", "count_whole", "read_regions", "bound", "validate", "estimate", "audit", "audit_compare",
    "graph", "read_graph", "plot",
    "slice_regions",
    "load_points", "RegionwalkError", "SolverError", "InternalError", "TimeLimit", "Interrupted",
    "METHODS", "AUDIT_METHODS", "AUDIT_COLUMNS",
]
