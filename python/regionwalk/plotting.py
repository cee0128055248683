"""Exact 2-D slices through a ball, and their pictures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import numpy as np

from . import _native
from ._arrays import floats
from ._common import PathLike, _path, _radius
from .network import _network


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
