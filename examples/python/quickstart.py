"""regionwalk from Python in one page: build a network, count the regions in a ball, bound them,
audit 100 points and draw a slice. Run: python examples/python/quickstart.py [OUTPUT_DIR]"""

import sys
import tempfile
from pathlib import Path

import numpy as np

import regionwalk as rw

out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
out_dir.mkdir(parents=True, exist_ok=True)

# 1. A network: from NumPy arrays (W is out×in; ReLU after every layer but the last).
#    Network.from_torch(module) and Network.from_file("model.onnx") work the same way.
rng = np.random.default_rng(0)
net = rw.Network.from_layers([
    (rng.standard_normal((16, 2)), rng.standard_normal(16) * 0.5),
    (rng.standard_normal((16, 16)) / 4, rng.standard_normal(16) * 0.5),
    (rng.standard_normal((2, 16)), np.zeros(2)),
])
print(net)

# 2. The exact number of activation regions meeting the open L2 ball of radius 0.5 around x.
x = np.array([0.1, -0.2])
exact = rw.count(net, x, 0.5, patterns=True)
print(f"{exact.regions} regions (complete: {exact.complete}), patterns array {exact.patterns.shape}")

# 3. Sound upper bounds, as exact Python ints; each is at least the exact count.
bounds = rw.bound(net, x, 0.5)
for method, value in bounds.bounds.items():
    print(f"  {method:<12} {value:>8}   ({value / exact.regions:.2f}x exact)")
assert all(v >= exact.regions for v in bounds.bounds.values())

# 4. An audit of 100 points at two radii: exact counts, boundary distances, bounds.
points = rng.uniform(-1, 1, size=(100, 2))
table = rw.audit(net, points, [0.1, 0.3], out=out_dir / "audit.jsonl", as_frame=False)
for r in (0.1, 0.3):
    counts = table["regions"][table["radius"] == r]
    print(f"radius {r}: median {np.median(counts):.0f} regions, max {counts.max()}")

# 5. The picture of the regions in the ball (the CLI's renderer; rw.plot(...) without out=
#    returns a matplotlib Figure instead).
rw.plot(net, x, 0.5, out=out_dir / "slice.png")
print(f"wrote {out_dir / 'audit.jsonl'} and {out_dir / 'slice.png'}")
