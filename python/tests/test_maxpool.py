"""Max pooling (issue 34, theory §11): a region is a set of inputs sharing every ReLU's sign and
every pooling window's argmax.

* Outputs: small CNNs with ``MaxPool2d`` in every attribute (kernel, stride, padding, dilation,
  ``ceil_mode``, overlapping windows), ``F.max_pool2d`` and ``AdaptiveMaxPool2d(1)`` compute what
  PyTorch (float64) and onnxruntime compute, through ``Network.from_file`` and ``from_torch``; so
  does VNN-COMP's ``Convnet_maxpool``.
* Counts: on 120 random tiny CNNs the walk counts exactly the regions of a brute-force reference
  that knows nothing of regionwalk's lowering: a splitter over the graph's own ReLU units and
  pooling windows in PyTorch order (a window branches on each of its inputs, found by probing
  PyTorch's own pooling), each unit read off PyTorch's forward pass with the earlier choices
  fixed, each cell decided by an LP (scipy's HiGHS). Degenerate cases pool dead ReLUs (ties
  everywhere) and duplicated channels; some add the pooling or the input to the output past the
  hidden ReLUs (skips carried by identity units).
* Refusals: what is not supported yet is named.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import regionwalk as rw
from conftest import FIXTURES, count_leaves, meets_with_margin

torch = pytest.importorskip("torch", reason="torch is not installed (scripts/python-env.sh installs it)")
pytest.importorskip("onnx", reason="onnx is not installed (scripts/python-env.sh installs it)")
pytest.importorskip("scipy.optimize", reason="scipy is not installed (scripts/python-env.sh installs it)")
nn = torch.nn
F = torch.nn.functional

#: Regions a box may hold for the brute-force reference (it takes ~10 ms per region).
MAX_REFERENCE_REGIONS = 200


class Pooled(nn.Module):
    """Conv → ReLU → max pooling → (Linear → ReLU →) Linear on a tiny image. ReLUs and pooling go
    through ``act`` and ``pool``, which the reference replaces to fix choices and read values."""

    def __init__(self, seed: int, degenerate: bool = False):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.shape = (1, int(rng.integers(3, 5)), int(rng.integers(3, 5)))
        channels = 2 if degenerate else int(rng.integers(1, 3))
        self.conv = nn.Conv2d(1, channels, int(rng.integers(1, 3)))
        conv_out = self.conv(torch.zeros(1, *self.shape))
        size = min(conv_out.shape[2:])
        kernel = int(rng.integers(2, min(3, size) + 1)) if size >= 2 else 1
        dilation = 2 if kernel == 2 and size >= 3 and rng.random() < 0.25 else 1
        self.args = dict(
            kernel_size=kernel,
            stride=int(rng.integers(1, kernel + 1)),
            padding=int(rng.integers(0, kernel // 2 + 1)),
            dilation=dilation,
            ceil_mode=bool(rng.random() < 0.5),
        )
        self.relu_first = bool(rng.random() < 0.8)
        pooled = F.max_pool2d(conv_out, **self.args)
        self.hidden = nn.Linear(pooled.numel(), 2) if rng.random() < 0.4 else None
        self.head = nn.Linear(2 if self.hidden is not None else pooled.numel(), 2)
        # Skips to the output past the hidden ReLUs: from the pooling (as in a ResNet stem), and
        # from the input itself; both carried by identity units.
        self.pool_skip = nn.Linear(pooled.numel(), 2) if self.hidden is not None and rng.random() < 0.5 else None
        self.input_skip = nn.Linear(int(np.prod(self.shape)), 2) if rng.random() < 0.25 else None
        if degenerate:
            with torch.no_grad():
                if rng.random() < 0.5:  # a dead channel: its windows tie everywhere
                    self.conv.weight[0].zero_()
                    self.conv.bias[0] = -1.0
                else:  # a duplicated channel: its windows repeat the other's
                    self.conv.weight[1], self.conv.bias[1] = self.conv.weight[0].clone(), self.conv.bias[0].clone()
        self.act = torch.relu
        self.pool = lambda z: F.max_pool2d(z, **self.args)

    def forward(self, x):
        h = self.conv(x)
        pooled = h = torch.flatten(self.pool(self.act(h) if self.relu_first else h), 1)
        if self.hidden is not None:
            h = self.act(self.hidden(h))
        y = self.head(h)
        if self.pool_skip is not None:
            y = y + self.pool_skip(pooled)
        if self.input_skip is not None:
            y = y + self.input_skip(torch.flatten(x, 1))
        return y


def export(module, shape, path, dtype=torch.float64):
    module = module.to(dtype).eval()
    torch.onnx.export(module, (torch.zeros(1, *shape, dtype=dtype),), str(path), dynamo=False)
    return module


def windows_of(args, shape):
    """Each pooling output's inputs (flat indices into one channel), probed through PyTorch's own
    pooling: an input belongs to a window iff raising it alone raises that output."""
    return _windows(tuple(sorted(args.items())), shape)


@functools.lru_cache(maxsize=None)
def _windows(args, shape):
    args = dict(args)
    c, h, w = shape
    members = None
    for p in range(h * w):
        x = torch.full((1, 1, h, w), -1e6, dtype=torch.float64)
        x.view(-1)[p] = 0.0
        out = F.max_pool2d(x, **args).reshape(-1)
        if members is None:
            members = [[] for _ in range(out.numel())]
        for o in np.flatnonzero(out.numpy() == 0.0):
            members[o].append(p)
    return members


class Recorder:
    """``act`` and ``pool`` that apply fixed choices to the first units (in call order: a ReLU
    unit's sign, a window's chosen input) and record every unit's values: a ReLU's
    pre-activation, a window's inputs."""

    def __init__(self, module, choices):
        self.module, self.choices, self.seen = module, choices, []

    def act(self, z):
        flat = z.reshape(z.shape[0], -1)
        out = []
        for j in range(flat.shape[1]):
            i = len(self.seen)
            self.seen.append(("relu", flat[:, j]))
            on = self.choices[i] if i < len(self.choices) else (flat[:, j] > 0).double()
            out.append(flat[:, j] * on)
        return torch.stack(out, dim=1).reshape(z.shape)

    def pool(self, z):
        n, c, h, w = z.shape
        members = windows_of(self.module.args, (1, h, w))
        out = []
        for ch in range(c):
            flat = z[:, ch].reshape(n, -1)
            for inputs in members:
                i = len(self.seen)
                values = flat[:, inputs]
                self.seen.append(("max", values))
                if i < len(self.choices):
                    out.append(values[:, self.choices[i]])
                else:
                    out.append(values.max(dim=1).values)
        pooled = F.max_pool2d(torch.zeros(1, c, h, w, dtype=z.dtype), **self.module.args)
        return torch.stack(out, dim=1).reshape(n, *pooled.shape[1:])


def recorded(module, points, choices):
    recorder = Recorder(module, choices)
    saved = module.act, module.pool
    module.act, module.pool = recorder.act, recorder.pool
    try:
        with torch.no_grad():
            module(points)
    finally:
        module.act, module.pool = saved
    return recorder.seen


def brute_force_count(module, lower, upper):
    """Regions of the graph meeting the open box: a splitter over its ReLU units and pooling
    windows in call order, each cell decided by an LP maximising the margin of every choice. Ties
    between the same function are not boundaries: the lowest input of a window takes them."""
    n0 = len(lower)
    shape = module.shape
    basis = torch.cat([torch.zeros(1, n0, dtype=torch.float64), torch.eye(n0, dtype=torch.float64)])
    points = basis.reshape(-1, *shape)

    def affine(values):
        v = values.numpy()
        return v[1:] - v[0], v[0]

    def feasible(choices):
        seen = recorded(module, points, choices)
        rows, rhs = [], []

        def at_least(a, b):  # a·x + b ≥ t·‖a‖ (or a constant that must be positive)
            norm = np.linalg.norm(a)
            if norm <= 1e-12 * (1 + np.abs(a).max()):
                return b > 1e-12
            rows.append(np.append(-a, norm))
            rhs.append(b)
            return True

        for choice, (kind, values) in zip(choices, seen):
            if kind == "relu":
                a, b = affine(values)
                if np.linalg.norm(a) <= 1e-12 * (1 + np.abs(a).max()) and abs(b) <= 1e-12:
                    if choice:  # identically zero: inactive by convention
                        return False
                    continue
                if not at_least(a if choice else -a, b if choice else -b):
                    return False
            else:
                a, b = affine(values)  # a: n0 × candidates
                for i in range(a.shape[1]):
                    if i == choice:
                        continue
                    da, db = a[:, choice] - a[:, i], b[choice] - b[i]
                    if np.linalg.norm(da) <= 1e-12 * (1 + np.abs(a).max()) and abs(db) <= 1e-12:
                        if i < choice:  # the same function: the lowest input takes the tie
                            return False
                        continue
                    if not at_least(da, db):
                        return False
        return meets_with_margin(rows, rhs, lower, upper)

    units = recorded(module, points[:1], [])

    def branches(choices):
        if len(choices) == len(units):
            return ()
        kind, values = units[len(choices)]
        return (0, 1) if kind == "relu" else range(values.shape[1])

    return count_leaves(branches, feasible)


@pytest.mark.parametrize("block", range(4))
def test_counts_equal_a_brute_force_over_relus_and_argmaxes(block, tmp_path):
    regions = ties = skips = 0
    for seed in range(block * 30, block * 30 + 30):
        torch.manual_seed(seed)
        degenerate = seed % 4 == 3
        module = export(Pooled(seed, degenerate), Pooled(seed, degenerate).shape, tmp_path / f"p{seed}.onnx")
        net = rw.Network.from_file(tmp_path / f"p{seed}.onnx")
        assert any(net.max_windows), f"seed {seed}: no max windows"
        rng = np.random.default_rng(seed)
        n0 = int(np.prod(module.shape))
        center = rng.uniform(-1.0, 1.0, n0)
        radius = float(rng.uniform(0.05, 0.4))
        # The reference spends an LP per choice: boxes are halved until they hold few regions.
        while True:
            lower, upper = center - radius, center + radius
            walked = rw.count(net, box=(lower, upper), engine="walk", max_regions=MAX_REFERENCE_REGIONS)
            if walked.complete:
                break
            radius /= 2
        reference = brute_force_count(module, lower, upper)
        assert walked.regions == reference, f"seed {seed} ({module.args}): walk {walked.regions}, brute force {reference}"
        regions += reference
        ties += int(degenerate and reference > 1)
        skips += int(module.pool_skip is not None or module.input_skip is not None)
    assert regions >= 150 and ties >= 2 and skips >= 5, (regions, ties, skips)


@pytest.mark.parametrize("seed", range(12))
def test_max_pooling_computes_what_torch_and_onnxruntime_compute(seed, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (scripts/python-env.sh installs it)")
    torch.manual_seed(seed)
    module = Pooled(seed)
    shape = module.shape
    export(module, shape, tmp_path / "p.onnx")
    net = rw.Network.from_file(tmp_path / "p.onnx")
    x = np.random.default_rng(seed).standard_normal((16, int(np.prod(shape))))
    with torch.no_grad():
        want = module(torch.from_numpy(x.reshape(-1, *shape))).numpy()
    assert np.allclose(np.stack([net(xi) for xi in x]), want, rtol=1e-12, atol=1e-12), module.args
    traced = rw.Network.from_torch(module, input_shape=shape)
    assert np.allclose(np.stack([traced(xi) for xi in x]), want, rtol=1e-12, atol=1e-12)
    # onnxruntime has no float64 convolution: compare a float32 export, read by regionwalk in float64.
    export(module, shape, tmp_path / "p32.onnx", dtype=torch.float32)
    try:
        session = ort.InferenceSession(str(tmp_path / "p32.onnx"))
    except Exception as e:
        # onnxruntime sizes a ceil_mode window that starts in the end padding where PyTorch drops
        # it, and then refuses PyTorch's export; regionwalk follows PyTorch (checked above).
        assert module.args["ceil_mode"] and "Dimension mismatch" in str(e), e
        return
    name = session.get_inputs()[0].name
    runtime = np.concatenate([session.run(None, {name: xi.reshape(1, *shape).astype(np.float32)})[0] for xi in x])
    net32 = rw.Network.from_file(tmp_path / "p32.onnx")
    assert np.allclose(np.stack([net32(xi) for xi in x]), runtime, rtol=1e-4, atol=1e-5)


class Overlapping(nn.Module):
    """Overlapping windows (stride 1 < kernel 3), padding, global max pooling, the functional form."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.gmp = nn.AdaptiveMaxPool2d(1)
        self.head = nn.Linear(3 + 3 * 3 * 3, 2)

    def forward(self, x):
        h = self.pool(torch.relu(self.conv(x)))
        side = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
        return self.head(torch.cat([torch.flatten(self.gmp(h), 1), torch.flatten(side, 1)], dim=1))


def test_overlapping_global_and_functional_max_pooling_load(tmp_path):
    torch.manual_seed(3)
    module = Overlapping().double().eval()
    shape = (2, 5, 5)
    net = rw.Network.from_torch(module, input_shape=shape)
    x = np.random.default_rng(3).standard_normal((8, 50))
    with torch.no_grad():
        want = module(torch.from_numpy(x.reshape(-1, *shape))).numpy()
    assert np.allclose(np.stack([net(xi) for xi in x]), want, rtol=1e-12, atol=1e-12)
    # The windows round-trip through the JSON format (how networks travel to Ray workers) and
    # through from_layers.
    assert rw.Network(rw._native.Network.from_json(net.to_json())).max_windows == net.max_windows
    rebuilt = rw.Network.from_layers(net.layers(), max_windows=net.max_windows)
    assert np.allclose(np.stack([rebuilt(xi) for xi in x]), want, rtol=1e-12, atol=1e-12)
    # The pattern of each window chooses one input, and walked regions hold sampled patterns.
    center = x[0]
    walked = rw.count(net, center=center, radius=0.01, norm="linf", patterns=True)
    assert walked.complete and walked.regions >= 1
    found = {row.tobytes() for row in walked.patterns}
    rng = np.random.default_rng(0)
    for _ in range(50):
        e = net.eval(center + rng.uniform(-0.01, 0.01, center.size))
        if not e.on_boundary:
            assert np.concatenate(e.pattern).astype(walked.patterns.dtype).tobytes() in found


def test_the_verivital_maxpool_cnn_computes_what_onnxruntime_computes():
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (scripts/python-env.sh installs it)")
    path = FIXTURES / "cnn" / "Convnet_maxpool.onnx"
    net = rw.Network.from_file(path)
    session = ort.InferenceSession(str(path))
    name = session.get_inputs()[0].name
    x = np.random.default_rng(5).uniform(0, 1, (4, 784)).astype(np.float32).astype(np.float64)
    runtime = np.concatenate([session.run(None, {name: xi.reshape(1, 1, 28, 28).astype(np.float32)})[0] for xi in x])
    assert np.allclose(np.stack([net(xi) for xi in x]), runtime, rtol=1e-4, atol=1e-4)
    windows = net.max_windows[1]
    assert len(windows) == 32 * 6 * 6 and all(e - s == 16 for s, e in windows)
    walked = rw.count(net, center=x[0], radius=1e-4, norm="linf")
    assert walked.complete and walked.regions >= 1


@pytest.mark.parametrize(
    "module, message",
    [
        (nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d(2, return_indices=True)), "returns indices"),
        (nn.Sequential(nn.Conv2d(1, 1, 1), nn.AdaptiveMaxPool2d(2)), "only 1 \\(global max pooling\\)"),
    ],
)
def test_what_is_not_supported_yet_is_refused_by_name(module, message):
    with pytest.raises(ValueError, match=message):
        rw.Network.from_torch(module.eval(), input_shape=(1, 4, 4))


def test_bounds_and_the_estimate_hold_the_count():
    net = rw.Network.from_file(FIXTURES / "cnn" / "Convnet_maxpool.onnx")
    center = np.random.default_rng(2).uniform(0, 1, 784)
    exact = rw.count(net, center=center, radius=1e-4, norm="linf")
    assert exact.complete
    bounds = rw.bound(net, center=center, radius=1e-4, norm="linf")
    # `hybrid` too when its per-region LPs over 18,432 candidates finish within the budget.
    assert {"global", "paper", "product", "local-serra"} <= set(bounds.bounds) - {"hybrid"}
    assert bounds.lower <= exact.regions <= min(bounds.bounds.values())
    # The estimate's cut tree decides each window at once (one child per feasible argmax).
    estimate = rw.estimate(net, center=center, radius=1e-4, norm="linf", probes=200, seed=1)
    assert estimate.lower <= exact.regions
    assert estimate.estimate_low <= exact.regions <= estimate.estimate_high
