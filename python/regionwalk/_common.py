"""What every question shares: path and domain arguments, the library's defaults, progress
reporting and the Ctrl-C exception."""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from . import _native
from ._arrays import floats
from ._native import RegionwalkError

PathLike = Union[str, "os.PathLike[str]"]

#: The library's defaults (bound samples, hybrid settings, the time budget, the audit's region
#: budget), held once in the Rust library; every keyword default of the package is read from it.
_DEFAULTS: Dict[str, Any] = dict(_native.DEFAULTS)


class Interrupted(KeyboardInterrupt, RegionwalkError):
    """Ctrl-C stopped a walk or an audit. ``result`` holds what was found: for a count, regions
    that certainly meet the domain (a lower bound); for an audit, the finished rows."""

    def __init__(self, result: Any):
        super().__init__("interrupted (Ctrl-C); the partial result is in .result")
        self.result = result


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


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
    input_box: bool = False,
) -> "_native.Domain":
    """The domain every question takes, by the same keywords: a ball (``center``, ``radius``,
    ``norm``, optionally ``clip_to_input_box``), ``box=(lower, upper)`` (a coordinate with
    ``lower == upper`` is fixed), ``input_box=True`` (the model's own) or ``whole=True``."""
    given = sum([center is not None or radius is not None, box is not None, bool(whole), bool(input_box)])
    if given != 1:
        raise ValueError(
            "choose one domain: center and radius (a ball), box=(lower, upper), input_box=True or whole=True"
        )
    if input_box:
        return _native.Domain.input_box()
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
