"""Runs inside relucent's virtual environment (see compare_relucent.py).

  relucent_driver.py export WIDTHS SEED HALF_WIDTH OUT.json
      Writes the seeded relucent network (PyTorch default initialisation, relucent.mlp) as
      regionwalk JSON. For a box (HALF_WIDTH > 0) the box centre, uniform in [-0.5, 0.5]^d from the
      same seed, is folded into the first layer's bias, so that both tools see the box
      [-HALF_WIDTH, HALF_WIDTH]^d around the origin (relucent's cube is centred at the origin).
  relucent_driver.py count WIDTHS SEED HALF_WIDTH
      Counts the regions with relucent's BFS (one worker) on the same network and prints
      {"regions": N, "seconds": T} (T: the search alone, after a warm-up search).
"""

import json
import sys
import time

import numpy as np
from relucent import Complex, mlp
from relucent.model.builders import set_seeds


def network(widths, seed, half_width):
    set_seeds(seed)
    net = mlp(widths)
    if half_width > 0:
        centre = np.random.default_rng(seed).uniform(-0.5, 0.5, widths[0])
        first = next(layer for name, layer in net.layers.items() if name.startswith("fc"))
        first.bias = np.asarray(first.bias, dtype=np.float64) + np.asarray(first.weight, dtype=np.float64) @ centre
    return net


def search(net, half_width):
    cx = Complex(net)
    options = dict(nworkers=1, verbose=0, verify=False)
    if half_width > 0:
        options.update(cube_radius=half_width, cube_mode="intersect")
    started = time.perf_counter()
    cx.bfs(**options)
    return len(cx), time.perf_counter() - started


def main():
    mode, widths, seed, half_width = sys.argv[1], [int(w) for w in sys.argv[2].split(",")], int(sys.argv[3]), float(sys.argv[4])
    net = network(widths, seed, half_width)
    if mode == "export":
        layers = [
            {"weight": np.asarray(l.weight, dtype=np.float64).tolist(), "bias": np.asarray(l.bias, dtype=np.float64).reshape(-1).tolist()}
            for name, l in net.layers.items()
            if name.startswith("fc")
        ]
        with open(sys.argv[5], "w") as f:
            json.dump({"layers": layers}, f)
    else:
        search(network([2, 4, 1], 0, 0.0), 0.0)  # warm-up: Gurobi environment, imports
        regions, seconds = search(net, half_width)
        print(json.dumps({"regions": regions, "seconds": seconds}))


if __name__ == "__main__":
    main()
