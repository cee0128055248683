"""PyTorch modules to layers: a chain of Linear maps and ReLUs becomes ``[(W, b), ...]``.

Consecutive affine maps (Linear, Flatten, Identity, Dropout in eval mode) are composed in float64;
a ReLU closes a layer. A module that ends with a ReLU gets an identity output layer, which is exact. The conversion is then checked against the module's own forward pass.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

#: Relative difference between the module's and the converted network's outputs beyond which the
#: conversion is refused (float64 forward passes of the same maps agree to ~1e-15).
CHECK_TOLERANCE = 1e-9
#: Random inputs used by the check.
CHECK_SAMPLES = 64


def _leaves(module: Any) -> List[Tuple[str, Any]]:
    """The modules a forward pass runs through, in order: nested containers are flattened."""
    children = list(module.named_children())
    if not children:
        return [("", module)]
    out = []
    for name, child in children:
        for sub, leaf in _leaves(child):
            out.append((f"{name}.{sub}" if sub else name, leaf))
    return out


def network_layers(
    module: Any, *, input_shape: Optional[Tuple[int, ...]], check: bool, build: Callable[..., Any]
) -> List[Tuple[np.ndarray, np.ndarray]]:
    """The layers of ``module``; ``build`` turns layers into a Network for the check."""
    try:
        import torch
        from torch import nn
    except ImportError:
        raise ImportError("Network.from_torch needs PyTorch (pip install torch)") from None
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module, got {type(module).__name__}")
    leaves = _leaves(module)
    dim: Optional[int] = None
    affine: Optional[Tuple[np.ndarray, np.ndarray]] = None  # pending composition since the last ReLU
    layers: List[Tuple[np.ndarray, np.ndarray]] = []
    for position, (name, m) in enumerate(leaves):
        where = f"{type(m).__name__} at position {position}" + (f" ('{name}')" if name else "")
        if isinstance(m, nn.Linear):
            w = m.weight.detach().cpu().to(torch.float64).numpy().copy()
            b = (
                m.bias.detach().cpu().to(torch.float64).numpy().copy()
                if m.bias is not None
                else np.zeros(w.shape[0])
            )
            if dim is not None and w.shape[1] != dim:
                raise ValueError(f"{where} expects {w.shape[1]} inputs but receives {dim}")
            affine = (w, b) if affine is None else (w @ affine[0], w @ affine[1] + b)
            dim = w.shape[0]
        elif isinstance(m, nn.ReLU):
            if dim is None:
                raise ValueError(f"{where} acts on the raw input; give a Linear layer first")
            if affine is None:
                continue  # nothing affine since the last ReLU: ReLU(ReLU(x)) = ReLU(x)
            layers.append(affine)
            affine = None
        elif isinstance(m, nn.Dropout):
            if m.training:
                raise ValueError(f"{where} is in training mode, where it is random; call module.eval() first")
        elif isinstance(m, (nn.Flatten, nn.Identity)):
            pass  # the engine's inputs are already flat (row-major, as Flatten orders them)
        else:
            raise ValueError(
                f"unsupported module {where}: only Linear, ReLU, Flatten, Identity and Dropout (eval mode) are"
                " supported"
            )
    if dim is None:
        raise ValueError("the module has no Linear layer")
    layers.append(affine if affine is not None else (np.eye(dim), np.zeros(dim)))
    if check:
        _check(module, layers, input_shape, build, torch)
    return layers


def _check(module: Any, layers: List[Tuple[np.ndarray, np.ndarray]], input_shape: Optional[Tuple[int, ...]],
           build: Callable[..., Any], torch: Any) -> None:
    n0 = layers[0][0].shape[1]
    shape = tuple(input_shape) if input_shape is not None else (n0,)
    if int(np.prod(shape)) != n0:
        raise ValueError(f"input_shape {shape} has {int(np.prod(shape))} entries but the first Linear takes {n0}")
    reference = copy.deepcopy(module).to(torch.float64).eval()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((CHECK_SAMPLES, n0))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x.reshape((CHECK_SAMPLES,) + shape))).reshape(CHECK_SAMPLES, -1).numpy()
    net = build(layers)
    got = np.stack([net.eval(xi).output for xi in x])
    if got.shape != expected.shape:
        raise ValueError(f"the module's output has shape {expected.shape[1:]} but the converted network's is {got.shape[1:]}")
    scale = max(1.0, float(np.abs(expected).max()))
    err = float(np.abs(got - expected).max()) / scale
    if err > CHECK_TOLERANCE:
        raise ValueError(
            f"the converted network differs from the module's forward pass (relative difference {err:.3g}): its"
            " forward() is not the chain of its children in order"
        )
