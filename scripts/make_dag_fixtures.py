"""Writes fixtures/dag/: small seeded networks that are not chains (residual blocks with and
without projection, concatenation, slices and splits, BatchNorm, a branch that cancels, skips
from the input and over a max pooling), exported
from PyTorch to ONNX in float64, and `reference.json`: PyTorch's own float64 outputs at seeded
points, which tests/dag.rs compares the loaded networks with. Needs torch and onnx
(scripts/python-env.sh installs both). Run from the repository root:

    target/py-venv/bin/python scripts/make_dag_fixtures.py
"""
import json
import os

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "dag")


class ResidualMLP(nn.Module):
    """2 inputs; a residual block around two Linear maps; a second block whose branch cancels."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(2, 6)
        self.a, self.b = nn.Linear(6, 6), nn.Linear(6, 6)
        self.c = nn.Linear(6, 6)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        h = torch.relu(h + self.b(torch.relu(self.a(h))))
        g = self.c(h)
        h = torch.relu(h + g - g)  # a residual branch that cancels exactly
        return self.head(h)


class AffineSkip(nn.Module):
    """No ReLU at all: y = W x + b + x, one region."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) + x


class ConcatSplit(nn.Module):
    """3 inputs; a split, a slice, two branches concatenated, and a skip across two layers."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(3, 6)
        self.left, self.right = nn.Linear(2, 3), nn.Linear(3, 3)
        self.mix = nn.Linear(6, 6)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        a, b = torch.split(h, [2, 4], dim=1)
        left = torch.relu(self.left(a))
        right = torch.relu(self.right(b[:, 1:4]))
        m = torch.relu(self.mix(torch.cat([left, right], dim=1)))
        return self.head(m + h)


class Block(nn.Module):
    """A ResNet basic block: conv-BN-ReLU-conv-BN plus the input (or its 1×1 projection)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.project = None
        if stride != 1 or cin != cout:
            self.project = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.project is None else self.project(x)))


class TinyResNet(nn.Module):
    """A 1×6×6 image: stem conv, one identity block, one projecting block, global average pool."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU())
        self.block1 = Block(2, 2, 1)
        self.block2 = Block(2, 3, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(self.block2(self.block1(self.stem(x)))), 1))


class InputSkip(nn.Module):
    """3 inputs; two blocks `relu(f(h) + x)` that add the input itself past ReLUs, and an output
    that adds it again: the input is carried through every hidden layer."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 4), nn.Linear(4, 3)
        self.c = nn.Linear(3, 3)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        h = torch.relu(self.b(torch.relu(self.a(x))) + x)
        h = torch.relu(self.c(h) - x)
        return self.head(h) + x[:, 1:]


class PooledResNet(nn.Module):
    """A ResNet-18 stem on a 1×6×6 image: conv-BN-ReLU, 2×2 max pooling, then a basic block whose
    skip adds the pooling's output past two ReLU layers, global average pooling and a head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.block = Block(2, 2, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(2, 2)

    def forward(self, x):
        return self.head(torch.flatten(self.gap(self.block(self.pool(self.stem(x)))), 1))


def randomise_batch_norms(module, generator):
    """Non-trivial running statistics and affine parameters (fresh BatchNorms are the identity)."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=generator, dtype=torch.float64) * 0.3)
            m.running_var.copy_(torch.rand(n, generator=generator, dtype=torch.float64) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=generator, dtype=torch.float64) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=generator, dtype=torch.float64) * 0.2)


# Name: (module, input shape, seed).
MODELS = {
    "affine_skip": (AffineSkip, (2,), 0),
    "concat_split": (ConcatSplit, (3,), 1),
    "residual_mlp": (ResidualMLP, (2,), 2),
    "tiny_resnet": (TinyResNet, (1, 6, 6), 3),
    "input_skip": (InputSkip, (3,), 4),
    "pooled_resnet": (PooledResNet, (1, 6, 6), 5),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    reference = {}
    for name, (cls, shape, seed) in sorted(MODELS.items()):
        torch.manual_seed(seed)
        module = cls().double().eval()
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            randomise_batch_norms(module, generator)
        path = os.path.join(OUT, f"{name}.onnx")
        torch.onnx.export(module, (torch.zeros(1, *shape, dtype=torch.float64),), path, dynamo=False,
                          input_names=["x"], output_names=["y"])
        points = np.random.default_rng(seed).uniform(-1, 1, (8, int(np.prod(shape))))
        with torch.no_grad():
            outputs = [module(torch.from_numpy(p.reshape(1, *shape))).numpy().ravel().tolist() for p in points]
        reference[name] = {"points": points.tolist(), "outputs": outputs}
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    print("written to", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
