"""Networks that are not chains (issue 34): residual blocks with and without projection, Concat,
Slice and Split, BatchNorm and pooling, branches that cancel, duplicated branches and skips from
the input itself.

* Outputs: the loaded ONNX export of random graphs computes what PyTorch (float64) and
  onnxruntime compute, and ``Network.from_torch`` equals ``Network.from_file`` of the export.
* Counts: on 120 random small graphs the walk and the box partition count exactly the regions of a
  brute-force reference that knows nothing of regionwalk's lowering: a layer-wise splitter over the
  graph's own ReLU units in PyTorch order, each unit's pre-activation read off PyTorch's forward
  pass with the earlier units' signs fixed, each cell decided by an LP (scipy's HiGHS).
* Refusals: unsupported modules, functions and ops are named.
"""

from __future__ import annotations

import numpy as np
import pytest

import regionwalk as rw
from conftest import count_leaves, meets_with_margin

torch = pytest.importorskip("torch", reason="torch is not installed (scripts/python-env.sh installs it)")
pytest.importorskip("onnx", reason="onnx is not installed (scripts/python-env.sh installs it)")
pytest.importorskip("scipy.optimize", reason="scipy is not installed (scripts/python-env.sh installs it)")
nn = torch.nn


class Graph(nn.Module):
    """A random graph of Linear maps and ReLUs on a few inputs. Every ReLU goes through ``act``,
    which the reference replaces to fix signs and read pre-activations."""

    KINDS = ("residual", "projection", "concat", "cancel", "duplicate", "slice", "input")

    def __init__(self, seed: int):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.n0 = int(rng.integers(2, 4))
        w = int(rng.integers(2, 4))
        self.stem = nn.Linear(self.n0, w)
        self.kinds = [self.KINDS[int(k)] for k in rng.integers(0, len(self.KINDS), int(rng.integers(1, 3)))]
        self.blocks = nn.ModuleList()
        for i, kind in enumerate(self.kinds):
            if kind in ("slice", "concat") and w < 2:
                kind = self.kinds[i] = "residual"
            if kind == "residual":
                self.blocks.append(nn.ModuleList([nn.Linear(w, 2), nn.Linear(2, w)]))
            elif kind == "projection":
                self.blocks.append(nn.ModuleList([nn.Linear(w, 2), nn.Linear(2, w + 1), nn.Linear(w, w + 1)]))
                w += 1
            elif kind == "concat":
                self.blocks.append(nn.ModuleList([nn.Linear(1, 2), nn.Linear(w - 1, 1)]))
                w = 3
            elif kind == "cancel":
                self.blocks.append(nn.ModuleList([nn.Linear(w, w)]))
            elif kind == "duplicate":
                self.blocks.append(nn.ModuleList([nn.Linear(w, 2)]))
                w = 4
            elif kind == "slice":  # a skip from the first units of h around a map of the others
                self.blocks.append(nn.ModuleList([nn.Linear(w - 1, w - 1)]))
                w -= 1
            else:  # input: a skip from the input itself past the ReLUs before
                self.blocks.append(nn.ModuleList([nn.Linear(self.n0, w)]))
        self.head = nn.Linear(w, 2)
        self.act = torch.relu
        if rng.random() < 0.25:  # degenerate: small integer weights put hyperplanes through shared points
            with torch.no_grad():
                for p in self.parameters():
                    p.copy_(torch.from_numpy(rng.integers(-2, 3, tuple(p.shape)).astype(np.float32)))

    def forward(self, x):
        h = self.act(self.stem(x))
        for kind, b in zip(self.kinds, self.blocks):
            if kind == "residual":
                h = self.act(h + b[1](self.act(b[0](h))))
            elif kind == "projection":
                h = self.act(b[2](h) + b[1](self.act(b[0](h))))
            elif kind == "concat":
                first, rest = torch.split(h, [1, h.shape[1] - 1], dim=1)
                h = self.act(torch.cat([b[0](first), b[1](rest)], dim=1))
            elif kind == "cancel":
                g = b[0](h)
                h = self.act(h + g - g)
            elif kind == "duplicate":
                d = self.act(b[0](h))
                h = self.act(torch.cat([d, d], dim=1))
            elif kind == "slice":
                h = self.act(h[:, :-1] + b[0](h[:, 1:]))
            else:
                h = self.act(h + b[0](x))
        return self.head(h)


def export(module, shape, path):
    module = module.double().eval()
    torch.onnx.export(module, (torch.zeros(1, *shape, dtype=torch.float64),), str(path), dynamo=False)
    return module


def forward(module, x, shape):
    with torch.no_grad():
        return module(torch.from_numpy(x.reshape(-1, *shape))).numpy().reshape(len(x), -1)


class Recorder:
    """An ``act`` that applies fixed signs to the first units (in call order) and records every
    pre-activation."""

    def __init__(self, signs):
        self.signs, self.seen = signs, []

    def __call__(self, z):
        start = sum(s.shape[1] for s in self.seen)
        self.seen.append(z)
        mask = torch.ones_like(z)
        for j in range(z.shape[1]):
            if start + j < len(self.signs):
                mask[:, j] = float(self.signs[start + j])
            else:
                mask[:, j] = (z[:, j] > 0).double()
        return z * mask


def recorded(module, points, signs):
    """Every ReLU unit's pre-activation (points × units, call order), the first ``len(signs)``
    units' signs fixed (:class:`Recorder`)."""
    recorder = Recorder(signs)
    module.act = recorder
    try:
        with torch.no_grad():
            module(points)
    finally:
        module.act = torch.relu
    return torch.cat(recorder.seen, dim=1).numpy()


def affine_units(module, signs, n0):
    """Every unit's pre-activation as ``(A, b)`` (unit × input) with the first ``len(signs)``
    units' signs fixed: exact for the units after them whose inputs those signs decide."""
    points = torch.cat([torch.zeros(1, n0, dtype=torch.float64), torch.eye(n0, dtype=torch.float64)])
    z = recorded(module, points, signs)
    return (z[1:] - z[0]).T, z[0]


def pre_activations(module, x):
    """Every ReLU unit's pre-activation at `x`, in call order."""
    return recorded(module, torch.from_numpy(np.asarray(x, dtype=np.float64)).reshape(1, -1), [])[0]


def brute_force_count(module, lower, upper):
    """Activation regions of the graph meeting the open box: a layer-wise splitter over its ReLU
    units in call order, each cell decided by an LP maximising the margin of every chosen sign."""
    n0 = len(lower)
    total = affine_units(module, [], n0)[1].size

    def feasible(signs):
        a, b = affine_units(module, signs, n0)
        rows, rhs = [], []
        for j, s in enumerate(signs):
            norm = np.linalg.norm(a[j])
            if norm <= 1e-12 * (1 + np.abs(a).max()) and abs(b[j]) <= 1e-12:
                if s:  # identically zero: inactive by convention
                    return False
                continue
            sign = 1.0 if s else -1.0
            # sign·(a·x + b) ≥ t·‖a‖, i.e. −sign·a·x + t·‖a‖ ≤ sign·b (t ≤ scale keeps it bounded).
            rows.append(np.append(-sign * a[j], max(norm, 1e-300)))
            rhs.append(sign * b[j])
        return meets_with_margin(rows, rhs, lower, upper)

    return count_leaves(lambda signs: (0, 1) if len(signs) < total else (), feasible)


@pytest.mark.parametrize("block", range(4))
def test_counts_equal_a_brute_force_over_the_graphs_own_relus(block, tmp_path):
    checked = regions = 0
    for seed in range(block * 30, block * 30 + 30):
        torch.manual_seed(seed)
        module = Graph(seed).double().eval()
        path = tmp_path / f"g{seed}.onnx"
        export(module, (module.n0,), path)
        net = rw.Network.from_file(path)
        rng = np.random.default_rng(seed)
        center = rng.uniform(-0.5, 0.5, module.n0)
        radius = float(rng.uniform(0.2, 1.0))
        lower, upper = center - radius, center + radius
        reference = brute_force_count(module, lower, upper)
        walked = rw.count(net, box=(lower, upper), engine="walk", patterns=True, witnesses=True)
        parted = rw.count(net, box=(lower, upper), engine="partition")
        what = f"seed {seed} ({', '.join(module.kinds)})"
        assert walked.complete and parted.complete, what
        # Patterns are the graph's own ReLUs, without carrying units: one bit per unit torch
        # computes, as many active as torch finds positive at the witness, distinct per region.
        units = pre_activations(module, center).size
        assert walked.patterns.shape == (walked.regions, units), what
        assert len({row.tobytes() for row in walked.patterns}) == walked.regions, what
        for row, x in zip(walked.patterns, walked.witnesses):
            assert row.sum() == int(np.sum(pre_activations(module, x) > 0)), what
        shown = net.eval(center).pattern
        assert sum(len(layer) for layer in shown) == units, what
        assert walked.regions == reference, f"{what}: walk {walked.regions}, brute force {reference}"
        assert parted.regions == reference, f"{what}: partition {parted.regions}, brute force {reference}"
        checked += 1
        regions += reference
    assert checked == 30 and regions >= 100, (checked, regions)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, pool):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.project = nn.Conv2d(cin, cout, 1, stride=stride) if (stride, cin) != (1, cout) else None
        self.pool = pool

    def forward(self, x):
        y = self.conv2(torch.relu(self.bn(self.conv1(x))))
        return torch.relu(y + (x if self.project is None else self.project(x)))


class ConvGraph(nn.Module):
    """Residual conv blocks (identity and projection), channel concatenation and slicing,
    average pooling, global average pooling."""

    def __init__(self, concat, pool):
        super().__init__()
        self.stem = nn.Conv2d(2, 3, 3, padding=1)
        self.a = Block(3, 3, 1, pool)
        self.b = Block(3, 4, 2, pool)
        self.side = nn.Conv2d(3, 2, 1)
        self.concat, self.pool = concat, pool
        self.avg = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(6 if concat else 4, 3)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        h = self.a(h)
        side = self.side(h)
        h = self.b(h)
        if self.concat:
            h = torch.cat([h, torch.relu(side[:, :, ::2, ::2])], dim=1)
        if self.pool:
            h = self.avg(h)
        return self.head(torch.flatten(self.gap(h), 1))


@pytest.mark.parametrize("concat, pool", [(False, False), (True, False), (False, True), (True, True)])
def test_conv_graphs_compute_what_torch_and_onnxruntime_compute(concat, pool, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (scripts/python-env.sh installs it)")
    torch.manual_seed(7)
    module = ConvGraph(concat, pool)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
    shape = (2, 6, 6)
    module = export(module, shape, tmp_path / "c.onnx")
    net = rw.Network.from_file(tmp_path / "c.onnx")
    x = np.random.default_rng(1).standard_normal((6, int(np.prod(shape))))
    got = np.stack([net(xi) for xi in x])
    assert np.allclose(got, forward(module, x, shape), rtol=1e-10, atol=1e-10)
    # onnxruntime has no float64 convolution: compare a float32 export, read by regionwalk in float64.
    torch.onnx.export(module.float(), (torch.zeros(1, *shape),), str(tmp_path / "c32.onnx"), dynamo=False)
    module.double()
    session = ort.InferenceSession(str(tmp_path / "c32.onnx"))
    name = session.get_inputs()[0].name
    runtime = np.concatenate([session.run(None, {name: xi.reshape(1, *shape).astype(np.float32)})[0] for xi in x])
    net32 = rw.Network.from_file(tmp_path / "c32.onnx")
    assert np.allclose(np.stack([net32(xi) for xi in x]), runtime, rtol=1e-4, atol=1e-5)
    traced = rw.Network.from_torch(module, input_shape=shape)
    assert np.allclose(np.stack([traced(xi) for xi in x]), got, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(0, 40, 4))
def test_random_graphs_load_as_torch_computes_them(seed, tmp_path):
    torch.manual_seed(seed)
    module = export(Graph(seed), (Graph(seed).n0,), tmp_path / "g.onnx")
    net = rw.Network.from_file(tmp_path / "g.onnx")
    x = np.random.default_rng(seed).standard_normal((16, module.n0))
    assert np.allclose(np.stack([net(xi) for xi in x]), forward(module, x, (module.n0,)), rtol=1e-12, atol=1e-12)
    assert np.allclose(np.stack([rw.Network.from_torch(module)(xi) for xi in x]), forward(module, x, (module.n0,)))


class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 3)

    def forward(self, x):
        return torch.relu(self.a(x)) * self.b(x)


class Squashed(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)

    def forward(self, x):
        return torch.sigmoid(self.a(x)) + x


@pytest.mark.parametrize(
    "module, shape, message",
    [
        (Gated(), None, "Mul of two computed tensors is not piecewise linear"),
        (Squashed(), None, "unsupported function sigmoid"),
        (nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU()), None, "give input_shape"),
    ],
)
def test_graphs_with_what_regionwalk_cannot_represent_are_refused_by_name(module, shape, message):
    with pytest.raises(ValueError, match=message):
        rw.Network.from_torch(module.eval(), input_shape=shape)


@pytest.mark.parametrize(
    "name", ["resnet_2b", "resnet_4b", "resnet_3b2_bn_mixup_adv_4.0_bs128_lr-1", "resnet_3b2_bn_mixup_ssadv_4.0_bs128_lr-1_v2"]
)
def test_the_vnncomp_resnets_compute_what_onnxruntime_computes(name):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (scripts/python-env.sh installs it)")
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "fixtures" / "resnet" / f"{name}.onnx"
    net = rw.Network.from_file(path)
    session = ort.InferenceSession(str(path))
    x = np.random.default_rng(3).uniform(0, 1, (4, 3, 32, 32)).astype(np.float32)
    runtime = np.concatenate([session.run(None, {session.get_inputs()[0].name: xi[None]})[0] for xi in x])
    got = np.stack([net(xi.ravel().astype(np.float64)) for xi in x])
    assert np.allclose(got, runtime, rtol=1e-4, atol=1e-4 * np.abs(runtime).max())


class CancelledSkip(nn.Module):
    """``c(x) + g − g`` with ``g`` computed after a ReLU: the branch cancels exactly, so the value
    reads the input only and needs no carrying (it would otherwise be a skip from the input)."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c, self.head = nn.Linear(2, 3), nn.Linear(3, 2), nn.Linear(2, 2), nn.Linear(2, 1)
        self.act = torch.relu

    def forward(self, x):
        g = self.b(self.act(self.a(x)))
        return self.head(self.act(self.c(x) + g - g))


def test_a_branch_that_cancels_exactly_is_not_read(tmp_path):
    torch.manual_seed(5)
    module = export(CancelledSkip(), (2,), tmp_path / "c.onnx")
    net = rw.Network.from_file(tmp_path / "c.onnx")
    # The cancelled branch's ReLUs are computed but read by nothing: one layer of 3 + 2 units.
    assert net.hidden_widths == [5]
    x = np.random.default_rng(0).standard_normal((8, 2))
    assert np.allclose(np.stack([net(xi) for xi in x]), forward(module, x, (2,)), rtol=1e-12, atol=1e-12)
    lower, upper = np.full(2, -1.0), np.full(2, 1.0)
    assert rw.count(net, box=(lower, upper)).regions == brute_force_count(module, lower, upper)
