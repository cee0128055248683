"""Convolutional networks from ONNX (issue 14, first part): the loader lowers Conv, AveragePool,
GlobalAveragePool, BatchNormalization and Pad into dense affine layers. Every attribute
combination is checked against PyTorch's own forward pass of the exported module (float64, so
that the comparison is tight), and the lowered first layer against the module's response to each
basis vector."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import regionwalk as rw

torch = pytest.importorskip("torch", reason="torch is not installed (scripts/python-env.sh installs it)")
pytest.importorskip("onnx", reason="onnx is not installed (scripts/python-env.sh installs it)")
nn = torch.nn


def export(module, shape, path, constant_folding=False):
    module = module.double().eval()
    torch.onnx.export(module, (torch.zeros(1, *shape, dtype=torch.float64),), str(path), dynamo=False,
                      do_constant_folding=constant_folding)
    return module


def forward(module, x, shape):
    with torch.no_grad():
        return module(torch.from_numpy(x.reshape(1, *shape))).numpy().ravel()


def assert_same_function(module, net, shape, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    assert net.input_dim == n
    for _ in range(4):
        x = rng.standard_normal(n)
        assert np.allclose(net(x), forward(module, x, shape), rtol=1e-9, atol=1e-9)


CONVS = [
    dict(kernel_size=k, stride=s, padding=p, dilation=d, groups=g, bias=b)
    for k, s, p, d, g, b in itertools.product([1, 3, (2, 3)], [1, 2, (2, 1)], [0, 1, (1, 2)], [1, 2], [1, 2], [True, False])
]


@pytest.mark.parametrize("index", range(0, len(CONVS), 7))
def test_conv_attributes_match_torch(index, tmp_path):
    torch.manual_seed(index)
    conv = CONVS[index]
    shape = (2, 9, 8)
    module = nn.Sequential(nn.Conv2d(2, 4, **conv), nn.ReLU(), nn.Flatten())
    out = module[0](torch.zeros(1, *shape)).numel()
    module.append(nn.Linear(out, 3))
    module = export(module, shape, tmp_path / "m.onnx")
    assert_same_function(module, rw.Network.from_file(tmp_path / "m.onnx"), shape, index)


@pytest.mark.parametrize("mode", ["same", "valid"])
def test_conv_string_padding_matches_torch(mode, tmp_path):
    torch.manual_seed(1)
    shape = (1, 7, 6)
    module = nn.Sequential(nn.Conv2d(1, 2, (3, 2), padding=mode), nn.ReLU(), nn.Flatten())
    module.append(nn.Linear(module[0](torch.zeros(1, *shape)).numel(), 2))
    module = export(module, shape, tmp_path / "m.onnx")
    assert_same_function(module, rw.Network.from_file(tmp_path / "m.onnx"), shape, 1)


POOLS = [
    dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i)
    for k, s, p, c, i in itertools.product([2, 3, (3, 2)], [1, 2, None], [0, 1], [False, True], [False, True])
    if not (p and (k == 2))  # padding must be at most half the kernel
]


@pytest.mark.parametrize("index", range(len(POOLS)))
def test_average_pool_attributes_match_torch(index, tmp_path):
    torch.manual_seed(index)
    shape = (2, 7, 8)
    module = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.AvgPool2d(**POOLS[index]), nn.Flatten())
    module.append(nn.Linear(module[:3](torch.zeros(1, *shape)).numel(), 2))
    module = export(module, shape, tmp_path / "m.onnx")
    assert_same_function(module, rw.Network.from_file(tmp_path / "m.onnx"), shape, index)


def test_batch_norm_global_pool_and_zero_padding_match_torch(tmp_path):
    # Written with onnx's helpers: PyTorch's exporter computes pads with a shape subgraph and fuses
    # batch norm into a preceding Conv. The reference is PyTorch's functional ops, float64.
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(3)
    shape = (3, 6, 5)
    p = dict(
        pads=np.array([0, 0, 0, 1, 0, 0, 1, 2], dtype=np.int64),  # top 0, left 1, bottom 1, right 2
        w1=rng.standard_normal((4, 3, 3, 3)), b1=rng.standard_normal(4),
        scale=rng.uniform(-2, 2, 4), shift=rng.uniform(-1, 1, 4), mean=rng.uniform(-1, 1, 4), var=rng.uniform(0.5, 2, 4),
        w2=rng.standard_normal((5, 4, 1, 1)), b2=rng.standard_normal(5),
        w3=rng.standard_normal((2, 5)), b3=rng.standard_normal(2),
    )
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"], mode="constant"),
        helper.make_node("Conv", ["p", "w1", "b1"], ["c1"], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("BatchNormalization", ["r1", "scale", "shift", "mean", "var"], ["n1"], epsilon=1e-3),
        helper.make_node("Conv", ["n1", "w2", "b2"], ["c2"]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, *shape])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [1, 2])],
        [numpy_helper.from_array(v, name=k) for k, v in p.items()],
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "m.onnx"))
    net = rw.Network.from_file(tmp_path / "m.onnx")
    t = {k: torch.from_numpy(v) for k, v in p.items()}
    F = torch.nn.functional

    def reference(x):
        h = F.pad(torch.from_numpy(x.reshape(1, *shape)), (1, 2, 0, 1))
        h = F.relu(F.conv2d(h, t["w1"], t["b1"], stride=2))
        h = F.batch_norm(h, t["mean"], t["var"], t["scale"], t["shift"], training=False, eps=1e-3)
        h = F.relu(F.conv2d(h, t["w2"], t["b2"]))
        return F.linear(h.mean(dim=(2, 3)), t["w3"], t["b3"]).numpy().ravel()

    for _ in range(4):
        x = rng.standard_normal(int(np.prod(shape)))
        assert np.allclose(net(x), reference(x), rtol=1e-10, atol=1e-10)
    assert net.hidden_widths == [4 * 3 * 3, 5 * 3 * 3]


def test_lowered_first_layer_is_the_response_to_basis_vectors(tmp_path):
    # Without a ReLU before the output, the network is one affine map: column i of its matrix is
    # the module's response to e_i minus its response to 0.
    torch.manual_seed(4)
    shape = (2, 5, 5)
    module = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1, groups=1), nn.AvgPool2d(2, ceil_mode=True),
                           nn.Flatten())
    module = export(module, shape, tmp_path / "m.onnx")
    net = rw.Network.from_file(tmp_path / "m.onnx")
    n = int(np.prod(shape))
    zero = forward(module, np.zeros(n), shape)
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        assert np.allclose(net(e) - net(np.zeros(n)), forward(module, e, shape) - zero, rtol=1e-12, atol=1e-12)


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cnn"


def test_vnncomp_avgpool_cnn_matches_the_onnx_reference_evaluator():
    # VNN-COMP 2021's verivital MNIST CNN (Conv, Relu, Pad, AveragePool, Flatten, Gemm), float32
    # weights: onnx's own reference implementation of the ops is the independent check.
    import onnx
    from onnx.reference import ReferenceEvaluator

    path = FIXTURES / "Convnet_avgpool.onnx"
    net = rw.Network.from_file(path)
    reference = ReferenceEvaluator(onnx.load(str(path)))
    rng = np.random.default_rng(14)
    for _ in range(3):
        x = rng.uniform(0, 1, 784)
        expected = reference.run(None, {"input": x.reshape(1, 1, 28, 28).astype(np.float32)})[0].ravel()
        assert np.allclose(net(x), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_cnn_regions_equal_those_of_its_dense_copy(tmp_path):
    # The CNN and an MLP written with the same dense weights are the same function: same counts.
    torch.manual_seed(5)
    shape = (1, 4, 4)
    module = export(nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(18, 1)), shape,
                    tmp_path / "m.onnx")
    cnn = rw.Network.from_file(tmp_path / "m.onnx")
    conv = module[0]
    w = np.zeros((18, 16))
    for oc, oy, ox, ky, kx in itertools.product(range(2), range(3), range(3), range(2), range(2)):
        w[(oc * 3 + oy) * 3 + ox, (oy + ky) * 4 + ox + kx] = conv.weight[oc, 0, ky, kx].item()
    b = np.repeat(conv.bias.detach().numpy(), 9)
    dense = rw.Network.from_layers([(w, b), (module[3].weight.detach().numpy(), module[3].bias.detach().numpy())])
    rng = np.random.default_rng(5)
    for _ in range(3):
        centre = rng.standard_normal(16) * 0.3
        a, c = rw.count(cnn, centre, 0.5, patterns=True), rw.count(dense, centre, 0.5, patterns=True)
        assert a.regions == c.regions > 1
        assert {tuple(r) for r in a.patterns} == {tuple(r) for r in c.patterns}
        bounds = rw.bound(cnn, centre, 0.5, budget=None)
        assert bounds.bounds and all(value >= a.regions for value in bounds.bounds.values())
        assert bounds.lower <= a.regions


@pytest.mark.parametrize(
    "module, message",
    [
        (nn.Sequential(nn.Conv2d(1, 2, 2), nn.Sigmoid(), nn.Flatten(), nn.Linear(32, 1)), "unsupported op 'Sigmoid'"),
    ],
)
def test_unsupported_image_ops_are_named(module, message, tmp_path):
    export(module, (1, 5, 5), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=message):
        rw.Network.from_file(tmp_path / "m.onnx")


def test_reflection_padding_is_refused_by_mode(tmp_path):
    from onnx import TensorProto, helper, numpy_helper, save

    graph = helper.make_graph(
        [helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")], "pad",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [1, 1, 6, 6])],
        [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), name="pads")],
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "m.onnx"))
    with pytest.raises(ValueError, match="node '.*' \\(Pad\\): pad mode 'reflect' is not supported"):
        rw.Network.from_file(tmp_path / "m.onnx")


def test_transposed_nhwc_graph_matches_the_onnx_reference_evaluator(tmp_path):
    # TensorFlow exports (VNN-COMP's marabou CIFAR nets) take NHWC images and transpose them to
    # NCHW for Conv, then back before flattening: each Transpose is a permutation of the features.
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(7)
    h, w, c = 5, 4, 3
    conv_w = rng.standard_normal((2, c, 2, 2))
    conv_b = rng.standard_normal(2)
    flat = 2 * 4 * 3
    dense = rng.standard_normal((flat, 3))
    inits = [
        numpy_helper.from_array(conv_w, "cw"),
        numpy_helper.from_array(conv_b, "cb"),
        numpy_helper.from_array(np.array([-1, flat], dtype=np.int64), "shape"),
        numpy_helper.from_array(dense, "dw"),
        numpy_helper.from_array(rng.standard_normal(3), "db"),
    ]
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["t", "cw", "cb"], ["c"], kernel_shape=[2, 2]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Transpose", ["r"], ["rt"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["rt", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "dw"], ["m"]),
        helper.make_node("Add", ["m", "db"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "nhwc", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, h, w, c])],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [1, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(tmp_path / "m.onnx"))
    net = rw.Network.from_file(tmp_path / "m.onnx")
    reference = ReferenceEvaluator(model)
    for _ in range(4):
        x = rng.standard_normal(h * w * c)
        expected = reference.run(None, {"x": x.reshape(1, h, w, c)})[0].ravel()
        assert np.allclose(net(x), expected, rtol=1e-10, atol=1e-10)
    assert net.hidden_widths == [2 * 4 * 3]


def test_transpose_of_the_batch_axis_is_refused(tmp_path):
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0, 2, 3])], "t",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, 2, 3, 3])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [2, 1, 3, 3])],
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "m.onnx"))
    with pytest.raises(ValueError, match="\\(Transpose\\): perm \\[1, 0, 2, 3\\]: only permutations of the three non-batch"):
        rw.Network.from_file(tmp_path / "m.onnx")


@pytest.mark.parametrize(
    "name, input_shape",
    [
        ("cifar10_large.onnx", (1, 32, 32, 3)),  # marabou-cifar10: NHWC, Transpose, MatMul
        ("cifar_base_kw.onnx", (1, 3, 32, 32)),  # oval21: padded strided convolutions
        ("cifar_conv18k.onnx", (1, 3, 32, 32)),  # built by scripts/make_cifar_cnn.py
    ],
)
def test_cifar_cnns_match_the_onnx_reference_evaluator(name, input_shape):
    import onnx
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(str(FIXTURES / name))
    net = rw.Network.from_file(FIXTURES / name)
    reference = ReferenceEvaluator(model)
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 3072)
    feed = {model.graph.input[0].name: x.reshape(input_shape).astype(np.float32)}
    expected = reference.run(None, feed)[0].ravel()
    assert np.allclose(net(x), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    # A bound on a CIFAR-size network: the bracket holds and the sampled lower bound is certified.
    result = rw.bound(net, x, 0.001, norm="linf")
    assert result.lower >= 1 and all(value >= result.lower for value in result.bounds.values())
