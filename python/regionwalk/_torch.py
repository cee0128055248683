"""PyTorch modules to networks.

A chain of Linear maps and ReLUs becomes ``[(W, b), ...]``: consecutive affine maps (Linear,
Flatten, Identity, Dropout in eval mode) are composed in float64; a ReLU closes a layer. A module
that ends with a ReLU gets an identity output layer, which is exact.

Any other module (residual blocks, convolutions, BatchNorm, average and max pooling, ``torch.cat``)
is traced with
``torch.fx``; every module, function and method of the trace must be one regionwalk represents
(an unsupported one is refused by name), and the module is then exported to ONNX in float64 and
read by the same loader as ``Network.from_file``. Either way the result is checked against the
module's own forward pass.
"""

from __future__ import annotations

import copy
import operator
import os
import tempfile
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


#: Modules only the traced path handles (their outputs are images, or they are not in a chain).
GRAPH_MODULES = ("Conv2d", "BatchNorm2d", "AvgPool2d", "AdaptiveAvgPool2d", "MaxPool2d", "AdaptiveMaxPool2d")
#: Modules a chain may hold (composed directly, without ONNX).
CHAIN_MODULES = ("Linear", "ReLU", "Flatten", "Identity", "Dropout")
#: Methods a traced forward may call on a tensor.
METHODS = ("relu", "view", "reshape", "flatten", "size", "split", "chunk", "contiguous", "add", "sub", "mul", "div")


def _imports() -> Tuple[Any, Any]:
    try:
        import torch
        from torch import nn
    except ImportError:
        raise ImportError("Network.from_torch needs PyTorch (pip install torch)") from None
    return torch, nn


def convert(
    module: Any,
    *,
    input_shape: Optional[Tuple[int, ...]],
    check: bool,
    from_layers: Callable[..., Any],
    from_file: Callable[..., Any],
) -> Any:
    """The Network of ``module``: composed directly if it is a chain of Linear maps and ReLUs,
    through torch.fx and ONNX otherwise; then checked against its forward pass."""
    torch, nn = _imports()
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module, got {type(module).__name__}")
    graph = _trace(module)
    if graph is None or _is_chain(graph, module):
        layers = _chain_layers(module)
        n0 = layers[0][0].shape[1]
        shape = tuple(input_shape) if input_shape is not None else (n0,)
        if int(np.prod(shape)) != n0:
            raise ValueError(f"input_shape {shape} has {int(np.prod(shape))} entries but the first Linear takes {n0}")
        net = from_layers(layers)
        hint = ": its forward() is not the chain of its children in order"
    else:
        _check_supported(graph, module, nn)
        shape = tuple(input_shape) if input_shape is not None else _input_shape(module, nn)
        net = _via_onnx(module, shape, from_file, torch)
        hint = ""
    if check:
        _check(module, net, shape, torch, hint)
    return net


def _trace(module: Any) -> Any:
    """The module's torch.fx graph, or None if its forward cannot be traced symbolically."""
    try:
        import torch.fx

        return torch.fx.symbolic_trace(module).graph
    except Exception:  # data-dependent control flow and the like: the chain path and its check decide
        return None


def _is_chain(graph: Any, module: Any) -> bool:
    """Whether the trace is one line of chain modules (the old, direct conversion applies). A line
    of modules with one that is neither a chain nor a graph module also goes there, so that it is
    refused with its position."""
    previous = None
    for node in graph.nodes:
        if node.op == "placeholder":
            previous = node
        elif node.op == "output":
            return node.args == (previous,)
        elif node.op == "call_module" and node.args == (previous,) and not node.kwargs:
            if type(module.get_submodule(node.target)).__name__ in GRAPH_MODULES:
                return False
            previous = node
        else:
            return False
    return False


def _check_supported(graph: Any, module: Any, nn: Any) -> None:
    """Refuses, by name, every module, function and method of the trace that is not affine or a
    ReLU, and modules in training mode."""
    import torch
    import torch.nn.functional as F

    functions = {
        operator.add, operator.sub, operator.mul, operator.truediv, operator.neg, operator.getitem,
        torch.add, torch.sub, torch.cat, torch.concat, torch.flatten, torch.relu, torch.reshape,
        torch.split, torch.chunk, F.relu, F.avg_pool2d, F.adaptive_avg_pool2d, F.max_pool2d, getattr,
    }
    for node in graph.nodes:
        if node.op == "call_module":
            m = module.get_submodule(node.target)
            kind = type(m).__name__
            where = f"{kind} '{node.target}'"
            if kind == "MaxPool2d" and m.return_indices:
                raise ValueError(f"{where} returns indices: only the pooled values are supported")
            if kind == "AdaptiveMaxPool2d" and m.output_size not in (1, (1, 1)):
                raise ValueError(f"{where} has output size {m.output_size}: only 1 (global max pooling) is supported")
            if kind not in CHAIN_MODULES + GRAPH_MODULES:
                raise ValueError(
                    f"unsupported module {where}: supported are {', '.join(CHAIN_MODULES + GRAPH_MODULES)}"
                    " and residual sums, torch.cat, slices and splits"
                )
            if kind in ("Dropout", "BatchNorm2d") and m.training:
                raise ValueError(f"{where} is in training mode; call module.eval() first")
            if kind == "AdaptiveAvgPool2d" and m.output_size not in (1, (1, 1)):
                raise ValueError(f"{where} has output size {m.output_size}: only 1 (global average pooling) is supported")
        elif node.op == "call_function" and node.target not in functions:
            name = getattr(node.target, "__name__", str(node.target))
            raise ValueError(f"unsupported function {name} at '{node.name}': it is not affine or a ReLU")
        elif node.op == "call_method" and node.target not in METHODS:
            raise ValueError(f"unsupported method .{node.target}() at '{node.name}': it is not affine or a ReLU")


def _input_shape(module: Any, nn: Any) -> Tuple[int, ...]:
    """The input shape when it is not given: the first Linear's input size."""
    for _, m in _leaves(module):
        if isinstance(m, nn.Linear):
            return (m.in_features,)
        if isinstance(m, nn.Conv2d):
            break
    raise ValueError("give input_shape (for example (C, H, W) for an image): it cannot be read from the module")


def _via_onnx(module: Any, shape: Tuple[int, ...], from_file: Callable[..., Any], torch: Any) -> Any:
    """The module exported to ONNX in float64 (eval mode) and read by the model loader."""
    import warnings

    exported = copy.deepcopy(module).to(torch.float64).eval()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "module.onnx")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(exported, (torch.zeros((1,) + shape, dtype=torch.float64),), path, dynamo=False)
        except ImportError as e:
            raise ImportError(f"Network.from_torch needs the onnx package for this module (pip install onnx): {e}") from None
        except Exception as e:
            raise ValueError(f"the module could not be exported to ONNX with input shape {shape}: {e}") from e
        try:
            return from_file(path)
        except ValueError as e:
            raise ValueError(f"the module's ONNX export: {str(e).removeprefix(f'{path}: ')}") from None


def _chain_layers(module: Any) -> List[Tuple[np.ndarray, np.ndarray]]:
    """The layers of a chain ``module``, its children run in order."""
    torch, nn = _imports()
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
                f"unsupported module {where}: supported are {', '.join(CHAIN_MODULES + GRAPH_MODULES)}"
                " and residual sums, torch.cat, slices and splits"
            )
    if dim is None:
        raise ValueError("the module has no Linear layer")
    layers.append(affine if affine is not None else (np.eye(dim), np.zeros(dim)))
    return layers


def _check(module: Any, net: Any, shape: Tuple[int, ...], torch: Any, hint: str) -> None:
    """Refuses a conversion whose outputs differ from the module's on random inputs."""
    n0 = int(np.prod(shape))
    reference = copy.deepcopy(module).to(torch.float64).eval()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((CHECK_SAMPLES, n0))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x.reshape((CHECK_SAMPLES,) + shape))).reshape(CHECK_SAMPLES, -1).numpy()
    got = np.stack([net.eval(xi).output for xi in x])
    if got.shape != expected.shape:
        raise ValueError(f"the module's output has shape {expected.shape[1:]} but the converted network's is {got.shape[1:]}")
    scale = max(1.0, float(np.abs(expected).max()))
    err = float(np.abs(got - expected).max()) / scale
    if err > CHECK_TOLERANCE:
        raise ValueError(
            f"the converted network differs from the module's forward pass (relative difference {err:.3g}){hint}"
        )
