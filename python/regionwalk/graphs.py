"""The region adjacency graph."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np

from . import _native
from ._common import Interrupted, _domain, _Progress
from .counting import CountResult
from .network import _network


def graph(
    net: Any,
    center: Any = None,
    radius: Optional[float] = None,
    norm: str = "l2",
    *,
    box: Optional[Tuple[Any, Any]] = None,
    whole: bool = False,
    input_box: bool = False,
    clip_to_input_box: bool = False,
    max_regions: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    progress: Union[bool, Callable[..., Any]] = False,
    as_networkx: Optional[bool] = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> Any:
    """The region adjacency graph: one node per region meeting the domain (attributes
    ``pattern``, ``witness``, ``inradius``, ``map_id``, ``linear_region``), one edge per shared
    facet inside it (``flipped``: the (layer, neuron) pairs that flip). A ``networkx.Graph``
    when networkx is installed (``as_networkx=None``); else a dict of arrays (``edges`` m×2,
    ``witness``, ``inradius``, ``map_id``, ``linear_region``, ``patterns``, ``flipped``).

    With ``out``, the graph is streamed to that file as JSON Lines while the walk runs (as
    ``regionwalk graph --format jsonl``), without holding it in memory, and the count's summary
    (a :class:`CountResult`) is returned; :func:`read_graph` reads the file."""
    with _Progress(progress, "regions", total=False) as callback:
        text, count_text = _native.graph(
            _network(net), _domain(center, radius, norm, box, whole, clip_to_input_box, input_box),
            max_regions=max_regions, time_limit=time_limit, threads=threads, progress=callback,
            out=None if out is None else os.fspath(out),
        )
    summary = CountResult._from(json.loads(count_text))
    if summary.stopped_by == "interrupted":
        raise Interrupted(summary)
    if out is not None:
        return summary
    g = json.loads(text)
    return _built(g["nodes"], g["edges"], as_networkx, complete=summary.complete, regions=summary.regions)


def read_graph(path: Union[str, "os.PathLike[str]"], as_networkx: Optional[bool] = None) -> Any:
    """Reads a region graph written by ``regionwalk graph --format json`` or ``--format jsonl``
    (JSON Lines, streamed: the JSON format's nodes, then its edges, one per line). Returns what
    :func:`graph` returns, without ``complete`` (the file does not say; the command's exit code
    does). The JSON Lines file is read line by line."""
    nodes: List[Any] = []
    edges: List[Any] = []
    with open(path, encoding="utf-8") as f:
        try:
            head = json.loads(f.readline())
        except ValueError:
            head = None  # the first line of an indented JSON document
        f.seek(0)
        if head is None or "nodes" in head:
            g = json.load(f)
            nodes, edges = g["nodes"], g["edges"]
        else:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as e:
                    raise ValueError(f"{path}: line {number} is not JSON: {e}") from None
                if not isinstance(item, dict) or not ("region" in item or "source" in item):
                    raise ValueError(f"{path}: line {number} is neither a graph node nor an edge")
                (nodes if "region" in item else edges).append(item)
    for i, n in enumerate(nodes):
        if n.get("id") != i:
            raise ValueError(f"{path}: node {i} has id {n.get('id')}: not a regionwalk graph")
    return _built(nodes, edges, as_networkx, regions=len(nodes))


def _built(node_items: List[Any], edges: List[Any], as_networkx: Optional[bool], **attributes: Any) -> Any:
    """A networkx graph or a dict of arrays (see :func:`graph`) from the JSON format's items."""
    nodes = [n["region"] for n in node_items]
    if as_networkx is None or as_networkx:
        try:
            import networkx as nx
        except ImportError:
            if as_networkx:
                raise ImportError("as_networkx=True needs networkx (pip install networkx)") from None
        else:
            G = nx.Graph(**attributes)
            for i, n in enumerate(nodes):
                G.add_node(
                    i, pattern=[np.asarray(l, dtype=bool) for l in n["pattern"]],
                    witness=np.asarray(n["witness"]), inradius=n["inradius"], map_id=n["map_id"],
                    linear_region=n["linear_region"],
                )
            for e in edges:
                G.add_edge(e["source"], e["target"], flipped=[tuple(f) for f in e["flipped"]])
            return G
    return {
        "edges": np.asarray([[e["source"], e["target"]] for e in edges], dtype=np.int64).reshape(-1, 2),
        "flipped": [[tuple(f) for f in e["flipped"]] for e in edges],
        "witness": np.asarray([n["witness"] for n in nodes], dtype=np.float64).reshape(len(nodes), -1),
        "inradius": np.asarray([n["inradius"] for n in nodes], dtype=np.float64),
        "map_id": np.asarray([n["map_id"] for n in nodes], dtype=np.int64),
        "linear_region": np.asarray([n["linear_region"] for n in nodes], dtype=np.int64),
        "patterns": np.asarray([np.concatenate([np.asarray(l, dtype=bool) for l in n["pattern"]]) for n in nodes],
                               dtype=bool).reshape(len(nodes), -1),
        **({"complete": attributes["complete"]} if "complete" in attributes else {}),
    }
