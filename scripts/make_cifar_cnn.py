"""Writes fixtures/cnn/cifar_conv18k.onnx: a seeded CIFAR-size ReLU CNN (3x32x32 inputs,
18,496 ReLUs) with PyTorch's default initialisation, the largest CNN of the test suite and the
benchmark of issue 14's load and bound targets. Needs torch and onnx:

    target/py-venv/bin/python scripts/make_cifar_cnn.py
"""
import pathlib

import torch
from torch import nn

torch.manual_seed(14)
net = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, padding=1),  # 16x32x32 = 16,384 ReLUs
    nn.ReLU(),
    nn.Conv2d(16, 8, kernel_size=4, stride=2, padding=1),  # 8x16x16 = 2,048 ReLUs
    nn.BatchNorm2d(8),
    nn.ReLU(),
    nn.AvgPool2d(2),  # 8x8x8
    nn.Flatten(),
    nn.Linear(512, 64),  # 64 ReLUs
    nn.ReLU(),
    nn.Linear(64, 10),
).eval()
with torch.no_grad():
    bn = net[3]
    bn.running_mean.uniform_(-0.1, 0.1)
    bn.running_var.uniform_(0.5, 1.5)
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.1, 0.1)
out = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "cnn" / "cifar_conv18k.onnx"
torch.onnx.export(net, torch.zeros(1, 3, 32, 32), str(out), input_names=["input"], output_names=["output"],
                  opset_version=13, dynamo=False)
print(out, out.stat().st_size, "bytes")
