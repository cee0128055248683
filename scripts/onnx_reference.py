"""Records onnxruntime's outputs for every ONNX network under fixtures/ at fixed random inputs, into
fixtures/onnx_reference.json; tests/io.rs checks that regionwalk's forward pass reproduces them.

Needs `pip install onnx onnxruntime numpy`. Inputs are uniform in [-1, 1] (seed 2026), shaped as the
graph input with symbolic dimensions set to 1."""
import glob
import json
import os

import numpy as np
import onnxruntime as ort

ROOT = os.path.join(os.path.dirname(__file__), "..")
rng = np.random.default_rng(2026)
records = {}
# The malformed/ corpus is refused by design; dag/ holds float64 graphs that onnxruntime cannot run
# (they are checked against PyTorch: fixtures/dag/reference.json).
for path in sorted(glob.glob(os.path.join(ROOT, "fixtures", "**", "*.onnx"), recursive=True)):
    if any(os.sep + skipped + os.sep in path for skipped in ("malformed", "dag")):
        continue
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in inp.shape]
    cases = []
    for _ in range(5):
        x = rng.uniform(-1, 1, size=shape).astype(np.float64 if inp.type == "tensor(double)" else np.float32)
        y = session.run(None, {inp.name: x})[0]
        cases.append({"input": x.reshape(-1).astype(float).tolist(), "output": y.reshape(-1).astype(float).tolist()})
    records[os.path.relpath(path, ROOT)] = cases
with open(os.path.join(ROOT, "fixtures", "onnx_reference.json"), "w") as f:
    json.dump(records, f)
print(f"recorded {len(records)} networks")
