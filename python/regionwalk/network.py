"""Networks: built from layers, PyTorch modules or model files, and evaluated at a point."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from . import _native
from ._arrays import floats
from ._common import PathLike


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
    """A ReLU network: ``h = ReLU(W h + b)`` for every layer but the last, which is affine. Some
    hidden units may be max units instead (``max_windows``): each window of consecutive units
    passes on its maximum, at its argmax, and zero at its other units (theory §11); the next layer
    reads every unit of a window with the same weights, so that it reads the window's maximum."""

    def __init__(self, native: "_native.Network"):
        self._native = native

    @classmethod
    def from_layers(
        cls,
        layers: Sequence[Tuple[Any, Any]],
        input_box: Optional[Tuple[Any, Any]] = None,
        max_windows: Optional[Sequence[Sequence[Tuple[int, int]]]] = None,
    ) -> "Network":
        """From ``[(W, b), ...]`` with ``W`` shaped out×in (any real dtype float64 holds
        exactly; any memory layout). ``input_box`` is an optional ``(lower, upper)``;
        ``max_windows`` optionally lists each hidden layer's max windows as ``(start, end)``
        ranges of its units (``Network.max_windows`` gives them back).

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
        windows = None if max_windows is None else [[(int(s), int(e)) for s, e in layer] for layer in max_windows]
        return cls(_native.Network.from_layers(converted, box, windows))

    @classmethod
    def from_file(cls, path: PathLike, *, raw_units: bool = False) -> "Network":
        """From an ONNX, .nnet or JSON model file (format from the extension), as the CLI reads
        it. ``raw_units`` (.nnet only) folds the header's normalisation into the first layer."""
        return cls(_native.Network.from_file(os.fspath(path), raw_units))

    @classmethod
    def from_torch(cls, module: Any, *, input_shape: Optional[Tuple[int, ...]] = None, check: bool = True) -> "Network":
        """From a PyTorch module. A chain of ``Linear``, ``ReLU``, ``Flatten``, ``Identity`` and
        ``Dropout`` (eval mode) is composed directly. Any other module is traced with
        ``torch.fx``: residual blocks (``+``/``-`` of computed tensors), ``Conv2d``,
        ``BatchNorm2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d(1)``, ``MaxPool2d``,
        ``AdaptiveMaxPool2d(1)``, ``torch.cat``, slices and splits are accepted and exported to
        ONNX (the ``onnx`` package is then needed); any other module, function or method is
        refused with its name.
        With ``check`` (the default), the result is compared with the module's own forward pass
        on random inputs of ``input_shape`` (default: the first ``Linear``'s ``in_features``;
        needed for images). torch is needed only here."""
        from ._torch import convert

        return convert(module, input_shape=input_shape, check=check, from_layers=cls.from_layers, from_file=cls.from_file)

    @property
    def input_dim(self) -> int:
        """Number of inputs."""
        return self._native.input_dim

    @property
    def hidden_widths(self) -> List[int]:
        """Widths of the hidden (ReLU) layers."""
        return list(self._native.hidden_widths)

    @property
    def max_windows(self) -> List[List[Tuple[int, int]]]:
        """Each hidden layer's max windows as ``(start, end)`` ranges of its units (all empty for
        a ReLU network); ``from_layers(net.layers(), max_windows=net.max_windows)`` rebuilds it."""
        return [list(layer) for layer in self._native.max_windows]

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
