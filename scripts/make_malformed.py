"""Writes fixtures/malformed/: small ONNX files that regionwalk must refuse with a clear message
(tests/io.rs). Needs `pip install onnx numpy`."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "malformed")
os.makedirs(OUT, exist_ok=True)


def model(nodes, inits, inputs=None, outputs=None, name="m"):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])]
    outputs = outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])]
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


W = numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")
b = numpy_helper.from_array(np.zeros(2, dtype=np.float32), "b")

# An op that is not an affine map or a ReLU.
conv = model([helper.make_node("Sigmoid", ["x"], ["y"], name="squash")], [])
onnx.save(conv, os.path.join(OUT, "unknown_op.onnx"))

# A tensor whose data disagree with its shape.
bad = TensorProto()
bad.name = "W"
bad.data_type = TensorProto.FLOAT
bad.dims.extend([2, 3])
bad.float_data.extend([1.0] * 5)
onnx.save(model([helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc")], [bad, b]),
          os.path.join(OUT, "wrong_tensor_size.onnx"))

# A layer whose input size does not match the data.
W3 = numpy_helper.from_array(np.ones((3, 2), dtype=np.float32), "W")
onnx.save(model([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")], [W3]),
          os.path.join(OUT, "size_mismatch.onnx"))

# The product of two computed tensors (not piecewise linear).
onnx.save(model([helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc"),
                 helper.make_node("Relu", ["h"], ["r"], name="relu"),
                 helper.make_node("Mul", ["r", "h"], ["y"], name="gate")], [W, b]),
          os.path.join(OUT, "product.onnx"))

# A residual sum of tensors of different sizes.
W32 = numpy_helper.from_array(np.ones((3, 2), dtype=np.float32), "W32")
onnx.save(model([helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc"),
                 helper.make_node("Relu", ["h"], ["r"], name="relu"),
                 helper.make_node("Gemm", ["r", "W32"], ["g"], name="widen", transB=1),
                 helper.make_node("Add", ["g", "r"], ["y"], name="skip")], [W, b, W32]),
          os.path.join(OUT, "add_mismatch.onnx"))

# A NaN weight.
Wn = numpy_helper.from_array(np.array([[1.0, np.nan], [0.0, 1.0]], dtype=np.float32), "W")
onnx.save(model([helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc")], [Wn, b]),
          os.path.join(OUT, "nan_weight.onnx"))

# Truncated protobuf: the first half of a valid model.
ok = model([helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc"),
            helper.make_node("Relu", ["h"], ["y"], name="relu")], [W, b]).SerializeToString()
with open(os.path.join(OUT, "truncated.onnx"), "wb") as f:
    f.write(ok[: len(ok) // 2])
with open(os.path.join(OUT, "empty.onnx"), "wb") as f:
    pass
print("written to", OUT)
