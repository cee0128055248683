"""Network.from_torch on real PyTorch modules: equal to from_file on the module's ONNX export,
equal to the module's forward pass, and refusing what it cannot represent."""

from __future__ import annotations

import numpy as np
import pytest

import regionwalk as rw

torch = pytest.importorskip("torch", reason="torch is not installed (scripts/python-env.sh installs it)")
nn = torch.nn


def modules():
    torch.manual_seed(0)
    return [
        nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)),
        nn.Sequential(nn.Flatten(), nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 6), nn.Identity(),
                      nn.ReLU(), nn.Linear(6, 3)),
        # Nested containers, two Linear maps in a row (composed), no bias, a trailing ReLU.
        nn.Sequential(nn.Sequential(nn.Linear(2, 5), nn.ReLU()), nn.Linear(5, 5, bias=False), nn.Linear(5, 4),
                      nn.ReLU(), nn.ReLU()),
    ]


class Custom(nn.Module):
    """A plain nn.Module whose forward runs its children in order."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 7)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(7, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


@pytest.mark.parametrize("index", range(3))
def test_from_torch_equals_from_file_on_the_onnx_export(index, tmp_path):
    module = modules()[index].eval()
    n0 = next(m for m in module.modules() if isinstance(m, nn.Linear)).in_features
    path = tmp_path / "m.onnx"
    torch.onnx.export(module, (torch.zeros(1, n0),), str(path), dynamo=False)
    ours, exported = rw.Network.from_torch(module), rw.Network.from_file(path)
    rng = np.random.default_rng(index)
    for _ in range(5):
        c = rng.standard_normal(n0) * 0.5
        a, b = rw.count(ours, c, 0.8, patterns=True), rw.count(exported, c, 0.8, patterns=True)
        assert a.regions == b.regions > 0
        x = rng.standard_normal(n0)
        assert np.allclose(ours(x), exported(x), rtol=1e-6, atol=1e-6)  # ONNX stores float32 weights


def test_from_torch_matches_the_forward_pass_of_a_custom_module():
    module = Custom().eval()
    net = rw.Network.from_torch(module)
    x = np.random.default_rng(0).standard_normal((10, 3))
    with torch.no_grad():
        expected = module.double()(torch.from_numpy(x)).numpy()
    assert np.allclose(np.stack([net(xi) for xi in x]), expected, rtol=1e-12, atol=1e-12)
    assert net.hidden_widths == [7]


def test_from_torch_with_an_image_input_shape():
    module = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 2)).eval()
    net = rw.Network.from_torch(module, input_shape=(1, 3, 4))
    assert net.input_dim == 12
    with pytest.raises(ValueError, match="input_shape"):
        rw.Network.from_torch(module, input_shape=(1, 3, 5))


@pytest.mark.parametrize(
    "module, message",
    [
        (nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1)), "unsupported module Sigmoid at position 1 \\('1'\\)"),
        (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Conv1d(1, 1, 1)), "unsupported module Conv1d at position 2"),
        (nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), "ReLU at position 0 .* acts on the raw input"),
        (nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 1)), "Linear at position 1 .* expects 5 inputs but receives 4"),
        (nn.Sequential(nn.Flatten()), "no Linear layer"),
    ],
)
def test_from_torch_refuses_what_it_cannot_represent(module, message):
    with pytest.raises(ValueError, match=message):
        rw.Network.from_torch(module)


def test_from_torch_refuses_dropout_in_training_mode():
    module = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="training mode"):
        rw.Network.from_torch(module.train())
    rw.Network.from_torch(module.eval())


def test_from_torch_detects_a_forward_that_is_not_the_chain_of_children():
    # A forward that torch.fx cannot trace (it branches on a value) is read as its children in order,
    # and the check against the forward pass catches the difference.
    class Branchy(Custom):
        def forward(self, x):
            h = self.fc2(self.act(self.fc1(x)))
            return h if float(x.sum()) > 1e9 else -h

    with pytest.raises(ValueError, match="differs from the module's forward pass"):
        rw.Network.from_torch(Branchy().eval())
