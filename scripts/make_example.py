"""Writes fixtures/examples/mlp_2x16x16.json: a 2-16-16-2 ReLU MLP with PyTorch's default
initialisation (weights and biases uniform in ±1/sqrt(fan_in)), seed 2026. Standard library only."""
import json
import math
import random

random.seed(2026)


def layer(fan_in, fan_out):
    k = 1 / math.sqrt(fan_in)
    return {
        "weight": [[round(random.uniform(-k, k), 6) for _ in range(fan_in)] for _ in range(fan_out)],
        "bias": [round(random.uniform(-k, k), 6) for _ in range(fan_out)],
    }


net = {"layers": [layer(2, 16), layer(16, 16), layer(16, 2)],
       "input_box": {"lower": [-1.0, -1.0], "upper": [1.0, 1.0]}}
with open("fixtures/examples/mlp_2x16x16.json", "w") as f:
    json.dump(net, f)
    f.write("\n")
