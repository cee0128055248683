//! ONNX loader: a graph of affine ops and ReLUs, as exported by PyTorch, Keras/tf2onnx, MATLAB
//! and the ERAN/NNet converters, lowered to the layers of a [`Network`].
//!
//! The graph is read node by node from its single non-constant input. Every value is kept as an
//! affine function of the input and the ReLU outputs before it ([`super::onnx_graph`]): affine ops
//! (`Gemm`, `MatMul` in either operand order, `Add`, `Sub`, `Mul`, `Div` by constants, and the
//! image ops `Conv`, `AveragePool`, `GlobalAveragePool`, `BatchNormalization`, `Pad` and
//! `Transpose` of [`super::onnx_image`]) compose into it; `Add` and `Sub` of two computed tensors
//! (residual connections), `Concat`, `Slice` and `Split` combine or select its rows; each `Relu`
//! starts a new source. Shape-only ops (`Flatten`, `Reshape`, `Identity`, `Squeeze`, `Unsqueeze`)
//! keep the feature vector (row-major) unchanged. `MaxPool` starts a source of max units (theory
//! §11), as a `Relu` starts one of ReLUs. The image ops need the value's NCHW shape: it is known
//! from a 4-D graph input and kept through image ops, ReLUs, max pooling and 4-D reshapes. Anything
//! else is refused with the op, the node and what is supported.

use super::onnx_graph::{Sources, Value};
use super::onnx_image::{self, Image};
use super::onnx_proto::{ModelProto, NodeProto, TensorProto};
use crate::model::Network;
use ndarray::{Array1, Array2};
use prost::Message;
use rustc_hash::FxHashMap;

const SUPPORTED: &str =
    "Gemm, MatMul, Add, Sub, Mul, Div, Relu, MaxPool, GlobalMaxPool, Conv, AveragePool, GlobalAveragePool, \
    BatchNormalization, Pad, Transpose, Concat, Slice, Split, Flatten, Reshape, Identity, Squeeze, Unsqueeze, Constant";

/// Largest tensor accepted (elements), so that a corrupt header cannot request absurd memory.
const MAX_ELEMENTS: usize = 1 << 28;

/// A constant tensor, as f64.
#[derive(Clone, Debug)]
struct Tensor {
    dims: Vec<usize>,
    data: Vec<f64>,
}

/// Decodes an ONNX model and turns its graph into a network.
pub fn network_from_onnx_bytes(bytes: &[u8]) -> Result<Network, String> {
    if bytes.is_empty() {
        return Err("empty file (not an ONNX model)".into());
    }
    let model = ModelProto::decode(bytes).map_err(|e| format!("not a valid ONNX protobuf: {e}"))?;
    let graph = model.graph.ok_or("the ONNX model has no graph")?;
    let mut constants: FxHashMap<String, Tensor> = FxHashMap::default();
    for t in &graph.initializer {
        constants.insert(t.name.clone(), tensor(t).map_err(|e| format!("initializer '{}': {e}", t.name))?);
    }
    let inputs: Vec<_> = graph.input.iter().filter(|i| !constants.contains_key(&i.name)).collect();
    let [input] = inputs.as_slice() else {
        return Err(format!("the graph has {} non-constant inputs; regionwalk needs exactly one", inputs.len()));
    };
    let [output] = graph.output.as_slice() else {
        return Err(format!("the graph has {} outputs; regionwalk needs exactly one", graph.output.len()));
    };
    let (width, image) = input_shape(input)?;
    let mut reader = Reader { values: FxHashMap::default(), uses: FxHashMap::default(), sources: Sources::new(width) };
    reader.values.insert(input.name.clone(), Value::source(0, width, image));
    for name in graph.node.iter().flat_map(|n| &n.input).chain([&output.name]) {
        *reader.uses.entry(name.clone()).or_default() += 1;
    }
    for node in &graph.node {
        reader.apply(node, &mut constants).map_err(|e| format!("node '{}' ({}): {e}", node.name, node.op_type))?;
    }
    let Some(value) = reader.values.remove(&output.name) else {
        return Err(format!("the graph output '{}' is not computed from the input by supported ops", output.name));
    };
    let (layers, carrying, windows) = reader.sources.into_layers(value);
    let net = Network::new(layers, None).map_err(|e| e.to_string())?.with_carrying(&carrying);
    net.with_max_windows(windows).map_err(|e| e.to_string())
}

/// The feature count of the graph input: the product of its concrete dimensions (symbolic batch
/// dimensions count as 1); and its image shape if it is 4-D (NCHW).
fn input_shape(input: &super::onnx_proto::ValueInfoProto) -> Result<(usize, Option<Image>), String> {
    let shape = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .ok_or_else(|| format!("graph input '{}' has no tensor shape", input.name))?;
    let mut n: usize = 1;
    for d in &shape.dim {
        if let Some(v) = d.dim_value.filter(|v| *v > 0) {
            n = n.checked_mul(v as usize).filter(|n| *n <= MAX_ELEMENTS).ok_or("input shape is too large")?;
        }
    }
    let concrete: Vec<Option<usize>> =
        shape.dim.iter().map(|d| d.dim_value.filter(|v| *v > 0).map(|v| v as usize)).collect();
    let image = match concrete[..] {
        [_, Some(channels), Some(height), Some(width)] => Some(Image { channels, height, width }),
        _ => None,
    };
    Ok((n, image))
}

/// The graph's computed values by name, each an affine function of the sources.
struct Reader {
    values: FxHashMap<String, Value>,
    /// How many more times each name will be read (a value is moved out at its last read).
    uses: FxHashMap<String, usize>,
    sources: Sources,
}

impl Reader {
    /// The computed value `name`, moved out at its last read and cloned before.
    fn take(&mut self, name: &str) -> Value {
        let left = self.uses.get_mut(name).expect("every read was counted");
        *left -= 1;
        if *left == 0 {
            self.values.remove(name).expect("a computed value")
        } else {
            self.values[name].clone()
        }
    }

    fn apply(&mut self, node: &NodeProto, constants: &mut FxHashMap<String, Tensor>) -> Result<(), String> {
        if node.op_type == "Constant" {
            let value =
                node.attribute_named("value").and_then(|a| a.t.as_ref()).ok_or("Constant without a 'value' tensor")?;
            let out = node.output.first().ok_or("no output")?;
            constants.insert(out.clone(), tensor(value)?);
            return Ok(());
        }
        let computed: Vec<bool> = node.input.iter().map(|i| self.values.contains_key(i)).collect();
        for (name, computed) in node.input.iter().zip(&computed) {
            if !computed && !name.is_empty() && !constants.contains_key(name) {
                return Err(format!("reads '{name}', which is neither a constant nor computed from the graph input"));
            }
        }
        if !computed.contains(&true) {
            if let ("Identity", [name], [out]) = (node.op_type.as_str(), node.input.as_slice(), node.output.as_slice())
            {
                let value = constants.get(name).cloned().ok_or("reads no value")?;
                constants.insert(out.clone(), value);
                return Ok(());
            }
            return Err("every input is a constant (export with constant folding)".into());
        }
        let constant = |i: usize| -> Result<&Tensor, String> {
            node.input.get(i).and_then(|n| constants.get(n)).ok_or_else(|| format!("input {i} must be a constant"))
        };
        let op = node.op_type.as_str();
        let outputs = match (op, computed.as_slice()) {
            ("Concat", _) if computed.iter().all(|c| *c) => {
                let axis = node.attribute_named("axis").ok_or("Concat without an 'axis'")?.i;
                let parts: Vec<Value> = node.input.iter().map(|n| self.take(n)).collect();
                vec![concat(&parts, axis)?]
            }
            ("Concat", _) => return Err("concatenates a constant: only computed tensors are supported".into()),
            ("Split", [true, ..]) => {
                let sizes = match node.input.get(1).filter(|s| !s.is_empty()) {
                    Some(_) => Some(constant(1)?.data.iter().map(|&v| v as usize).collect::<Vec<_>>()),
                    None => node.attribute_named("split").map(|a| a.ints.iter().map(|&v| v as usize).collect()),
                };
                let axis = node.attribute_named("axis").map_or(0, |a| a.i);
                let value = self.take(&node.input[0]);
                split(&value, axis, sizes, node.output.len())?
            }
            ("Slice", [true, ..]) => {
                let value = self.take(&node.input[0]);
                vec![slice(&value, &slice_arguments(node, constant)?)?]
            }
            ("Add" | "Sub", [true, true]) => {
                let mut a = self.take(&node.input[0]);
                a.add(self.take(&node.input[1]), if op == "Add" { 1.0 } else { -1.0 })?;
                vec![a]
            }
            ("Mul" | "Div" | "MatMul" | "Gemm", [true, true, ..]) => {
                return Err(format!("{op} of two computed tensors is not piecewise linear in the input"));
            }
            (op, _) if !SUPPORTED.split(", ").any(|supported| supported == op) => {
                return Err(format!("unsupported op '{op}' (supported: {SUPPORTED})"));
            }
            (_, [true, rest @ ..]) if !rest.contains(&true) => {
                let mut value = self.take(&node.input[0]);
                unary(node, &mut value, &mut self.sources, constant, false)?;
                vec![value]
            }
            (_, [false, true]) => {
                let mut value = self.take(&node.input[1]);
                unary(node, &mut value, &mut self.sources, constant, true)?;
                vec![value]
            }
            (op, _) => return Err(format!("{op} with these operands is not supported")),
        };
        if outputs.len() != node.output.len() {
            return Err(format!("{} outputs, {} expected", node.output.len(), outputs.len()));
        }
        for (name, value) in node.output.iter().zip(outputs) {
            self.values.insert(name.clone(), value);
        }
        Ok(())
    }
}

/// An op with one computed operand `value` (the first input, or the second if `second`), the
/// others constants: `value` becomes the op's output.
fn unary<'a>(
    node: &NodeProto,
    value: &mut Value,
    sources: &mut Sources,
    constant: impl Fn(usize) -> Result<&'a Tensor, String>,
    second: bool,
) -> Result<(), String> {
    let image = |v: &Value| {
        v.image.ok_or("needs an NCHW image, but the current value's shape is not known (a 4-D graph input or a 4-D Reshape gives it)")
    };
    match (node.op_type.as_str(), second) {
        ("Identity", false) => {}
        ("Flatten" | "Squeeze" | "Unsqueeze", false) => value.image = None,
        ("Reshape", false) => {
            let shape = constant(1)?;
            if shape.data.iter().all(|&d| d > 0.0) && shape.data.iter().product::<f64>() != value.width() as f64 {
                return Err(format!("reshape to {:?} does not hold {} values", shape.data, value.width()));
            }
            value.image = match shape.data[..] {
                [_, c, h, w] if c > 0.0 && h > 0.0 && w > 0.0 && c * h * w == value.width() as f64 => {
                    Some(Image { channels: c as usize, height: h as usize, width: w as usize })
                }
                _ => None,
            };
        }
        ("Conv", false) => {
            let w = constant(1)?;
            let bias = match node.input.get(2).filter(|b| !b.is_empty()) {
                Some(_) => Some(constant(2)?.data.as_slice()),
                None => None,
            };
            let lowered = onnx_image::conv(node, image(value)?, (&w.dims, &w.data), bias)?;
            value.compose_lowered(lowered)?;
        }
        ("Transpose", false) => value.compose_lowered(onnx_image::transpose(node, image(value)?)?)?,
        ("AveragePool", false) => value.compose_lowered(onnx_image::average_pool(node, image(value)?)?)?,
        ("GlobalAveragePool", false) => value.compose_lowered(onnx_image::global_average_pool(image(value)?))?,
        ("BatchNormalization", false) => {
            let input = image(value)?;
            let [a, b, c, d] = [1, 2, 3, 4].map(|i| constant(i).map(|t| t.data.as_slice()));
            let (factor, shift) = onnx_image::batch_norm(node, input, [a?, b?, c?, d?])?;
            value.scale_rows(&factor);
            value.bias += &shift;
        }
        ("Pad", false) => {
            let pads = match node.input.get(1).filter(|p| !p.is_empty()) {
                Some(_) => constant(1)?.data.clone(),
                None => {
                    node.attribute_named("pads").map(|a| a.ints.iter().map(|&v| v as f64).collect()).unwrap_or_default()
                }
            };
            if node.input.get(3).is_some_and(|a| !a.is_empty()) {
                return Err("the 'axes' input is not supported".into());
            }
            let fill = match node.input.get(2).filter(|v| !v.is_empty()) {
                Some(_) => constant(2)?.data.first().copied().unwrap_or(0.0),
                None => node.attribute_named("value").map_or(0.0, |a| a.f as f64),
            };
            value.compose_lowered(onnx_image::pad(node, image(value)?, &pads, fill)?)?;
        }
        ("Relu", false) => {
            *value = sources.relu(std::mem::replace(value, Value::source(0, 0, None)));
        }
        ("MaxPool" | "GlobalMaxPool", false) => {
            let (select, windows, output) = onnx_image::max_pool(node, image(value)?)?;
            let mut candidates = std::mem::replace(value, Value::source(0, 0, None));
            candidates.compose(select.into_weight())?;
            *value = sources.max(candidates, windows, Some(output));
        }
        ("Gemm", false) => {
            let alpha = node.attribute_named("alpha").map_or(1.0, |a| a.f as f64);
            let beta = node.attribute_named("beta").map_or(1.0, |a| a.f as f64);
            if node.attribute_named("transA").is_some_and(|a| a.i != 0) {
                return Err("transA = 1 on the data input is not supported".into());
            }
            let b = matrix(constant(1)?)?;
            // Y = alpha · x · B' + beta · C with B' = Bᵀ if transB: as a column map, W = alpha · B'ᵀ.
            let w = if node.attribute_named("transB").is_some_and(|a| a.i != 0) { b } else { b.reversed_axes() };
            value.compose((w * alpha).into())?;
            value.image = None;
            if node.input.len() > 2 && !node.input[2].is_empty() {
                let c = broadcast(value, constant(2)?)?;
                value.bias = &value.bias + &(c * beta);
            }
        }
        ("MatMul", _) => {
            let b = constant(if second { 0 } else { 1 })?;
            let w = if b.dims.len() == 1 {
                Array2::from_shape_vec((1, b.data.len()), b.data.clone()).unwrap()
            } else if second {
                matrix(b)?
            } else {
                matrix(b)?.reversed_axes()
            };
            value.compose(w.into())?;
            value.image = None;
        }
        ("Add", _) => {
            let c = broadcast(value, constant(if second { 0 } else { 1 })?)?;
            value.bias = &value.bias + &c;
        }
        ("Sub", false) => {
            let c = broadcast(value, constant(1)?)?;
            value.bias = &value.bias - &c;
        }
        ("Sub", true) => {
            let c = broadcast(value, constant(0)?)?;
            value.scale_rows(&Array1::from_elem(value.width(), -1.0));
            value.bias = &c + &value.bias;
        }
        ("Mul", _) | ("Div", false) => {
            let mut c = broadcast(value, constant(if second { 0 } else { 1 })?)?;
            if node.op_type == "Div" {
                if c.iter().any(|v| *v == 0.0) {
                    return Err("division by zero".into());
                }
                c.mapv_inplace(|v| 1.0 / v);
            }
            value.scale_rows(&c);
        }
        (op, _) => {
            return Err(format!(
            "{op} with these operands is not supported (data input must be the computed value, the others constants)"
        ))
        }
    }
    Ok(())
}

/// A constant broadcast to the value's width: a scalar, exactly `width` values, or, on an image,
/// one value per channel (shape `[C, 1, 1]` or `[1, C, 1, 1]`).
fn broadcast(value: &Value, c: &Tensor) -> Result<Array1<f64>, String> {
    let width = value.width();
    let per_channel = |image: &Image| {
        let significant: Vec<usize> = c.dims.iter().copied().skip_while(|&d| d == 1).collect();
        c.dims.len() >= 3 && significant.first() == Some(&image.channels) && significant[1..].iter().all(|&d| d == 1)
    };
    match (c.data.len(), &value.image) {
        (1, _) => Ok(Array1::from_elem(width, c.data[0])),
        (n, _) if n == width => Ok(Array1::from(c.data.clone())),
        (_, Some(image)) if per_channel(image) => {
            let area = image.height * image.width;
            Ok(Array1::from_shape_fn(width, |i| c.data[i / area]))
        }
        (n, _) => Err(format!("constant of {n} values (shape {:?}) does not broadcast to {width} values", c.dims)),
    }
}

/// A value's shape with the batch axis: `[1, C, H, W]` for an image, `[1, n]` otherwise.
fn dims(value: &Value) -> Vec<usize> {
    match value.image {
        Some(i) => vec![1, i.channels, i.height, i.width],
        None => vec![1, value.width()],
    }
}

/// A value of shape `dims` (batch first): an image if 4-D.
fn shaped(mut value: Value, dims: &[usize]) -> Value {
    value.image = match dims[..] {
        [1, channels, height, width] => Some(Image { channels, height, width }),
        _ => None,
    };
    value
}

/// `axis` (negative counts from the end) as an index into a shape of `rank` axes, not the batch.
fn feature_axis(axis: i64, rank: usize) -> Result<usize, String> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    match usize::try_from(a) {
        Ok(0) => Err("operates on the batch axis (only batch 1 is supported)".into()),
        Ok(a) if a < rank => Ok(a),
        _ => Err(format!("axis {axis} is out of range for a value of {rank} axes")),
    }
}

/// `Concat` along `axis` (row-major layout, as ONNX).
fn concat(parts: &[Value], axis: i64) -> Result<Value, String> {
    let shapes: Vec<Vec<usize>> = parts.iter().map(dims).collect();
    let axis = feature_axis(axis, shapes[0].len())?;
    for s in &shapes[1..] {
        let differs = s.len() != shapes[0].len() || (0..s.len()).any(|d| d != axis && s[d] != shapes[0][d]);
        if differs {
            return Err(format!("concatenates shapes {:?} and {s:?} along axis {axis}", shapes[0]));
        }
    }
    let outer: usize = shapes[0][..axis].iter().product();
    let inner: usize = shapes[0][axis + 1..].iter().product();
    let mut picks = Vec::new();
    for o in 0..outer {
        for (p, s) in shapes.iter().enumerate() {
            for a in 0..s[axis] {
                picks.extend((0..inner).map(|i| (p, (o * s[axis] + a) * inner + i)));
            }
        }
    }
    let mut out = shapes[0].clone();
    out[axis] = shapes.iter().map(|s| s[axis]).sum();
    let refs: Vec<&Value> = parts.iter().collect();
    Ok(shaped(Value::gather(&refs, &picks), &out))
}

/// The indices a `Slice` keeps along each sliced axis: `(axis, start, end, step)` as in the op.
type SliceArguments = Vec<(i64, i64, i64, i64)>;

/// `Slice`'s starts, ends, axes and steps: inputs (opset ≥ 10) or attributes (before).
fn slice_arguments<'a>(
    node: &NodeProto,
    constant: impl Fn(usize) -> Result<&'a Tensor, String>,
) -> Result<SliceArguments, String> {
    let ints = |t: &Tensor| t.data.iter().map(|&v| v as i64).collect::<Vec<_>>();
    let given = |i: usize| node.input.get(i).is_some_and(|n| !n.is_empty());
    let (starts, ends, axes, steps) = if given(1) {
        let optional = |i: usize| if given(i) { constant(i).map(|t| Some(ints(t))) } else { Ok(None) };
        (ints(constant(1)?), ints(constant(2)?), optional(3)?, optional(4)?)
    } else {
        let attr = |name: &str| node.attribute_named(name).map(|a| a.ints.clone());
        (
            attr("starts").ok_or("Slice without 'starts'")?,
            attr("ends").ok_or("Slice without 'ends'")?,
            attr("axes"),
            None,
        )
    };
    let n = starts.len();
    let axes = axes.unwrap_or_else(|| (0..n as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; n]);
    if ends.len() != n || axes.len() != n || steps.len() != n {
        return Err("starts, ends, axes and steps differ in length".into());
    }
    Ok((0..n).map(|i| (axes[i], starts[i], ends[i], steps[i])).collect())
}

/// `Slice` with ONNX's clamping of starts and ends.
fn slice(value: &Value, arguments: &SliceArguments) -> Result<Value, String> {
    let shape = dims(value);
    let mut kept: Vec<Vec<usize>> = shape.iter().map(|&d| (0..d).collect()).collect();
    for &(axis, start, end, step) in arguments {
        let a = if axis < 0 { axis + shape.len() as i64 } else { axis };
        let a = usize::try_from(a).ok().filter(|a| *a < shape.len()).ok_or(format!("axis {axis} is out of range"))?;
        let d = shape[a] as i64;
        if step == 0 {
            return Err("a step of 0".into());
        }
        let clamp = |v: i64, lo: i64, hi: i64| (if v < 0 { v + d } else { v }).clamp(lo, hi);
        let mut indices = Vec::new();
        if step > 0 {
            let (mut i, end) = (clamp(start, 0, d), clamp(end, 0, d));
            while i < end {
                indices.push(i as usize);
                i += step;
            }
        } else {
            let (mut i, end) = (clamp(start, 0, d - 1), clamp(end, -1, d - 1));
            while i > end {
                indices.push(i as usize);
                i += step;
            }
        }
        kept[a] = indices;
    }
    if kept[0] != [0] {
        return Err("slices the batch axis (only batch 1 is supported)".into());
    }
    if kept.iter().any(Vec::is_empty) {
        return Err("the slice is empty".into());
    }
    let strides: Vec<usize> = (0..shape.len()).map(|a| shape[a + 1..].iter().product()).collect();
    let mut picks = vec![0];
    for (a, indices) in kept.iter().enumerate() {
        let stride = strides[a];
        picks = picks.iter().flat_map(|&p| indices.iter().map(move |&i| p + i * stride)).collect();
    }
    let out: Vec<usize> = kept.iter().map(Vec::len).collect();
    Ok(shaped(Value::gather(&[value], &picks.into_iter().map(|p| (0, p)).collect::<Vec<_>>()), &out))
}

/// `Split` along `axis` into `sizes` (or `parts` equal parts).
fn split(value: &Value, axis: i64, sizes: Option<Vec<usize>>, parts: usize) -> Result<Vec<Value>, String> {
    let shape = dims(value);
    let a = feature_axis(axis, shape.len())?;
    let sizes = match sizes {
        Some(s) => s,
        None if parts > 0 && shape[a].is_multiple_of(parts) => vec![shape[a] / parts; parts],
        None => return Err(format!("{} values along axis {a} do not split into {parts} equal parts", shape[a])),
    };
    if sizes.iter().sum::<usize>() != shape[a] {
        return Err(format!("split sizes {sizes:?} do not add up to {}", shape[a]));
    }
    let mut start = 0;
    sizes
        .iter()
        .map(|&n| {
            let part = slice(value, &vec![(a as i64, start as i64, (start + n) as i64, 1)]);
            start += n;
            part
        })
        .collect()
}

fn matrix(t: &Tensor) -> Result<Array2<f64>, String> {
    let [r, c] = t.dims[..] else { return Err(format!("expected a matrix, got shape {:?}", t.dims)) };
    Array2::from_shape_vec((r, c), t.data.clone()).map_err(|e| e.to_string())
}

/// Decodes a tensor (float, double, int32 or int64; raw or typed data) into f64 values.
fn tensor(t: &TensorProto) -> Result<Tensor, String> {
    if t.data_location == 1 {
        return Err("external tensor data is not supported".into());
    }
    let mut numel: usize = 1;
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| format!("negative dimension {d}"))?;
        numel = numel.checked_mul(d).filter(|n| *n <= MAX_ELEMENTS).ok_or("tensor is too large")?;
        dims.push(d);
    }
    let raw = &t.raw_data;
    let data: Vec<f64> = match t.data_type {
        1 if !raw.is_empty() => raw.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64).collect(),
        1 => t.float_data.iter().map(|&v| v as f64).collect(),
        11 if !raw.is_empty() => raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect(),
        11 => t.double_data.clone(),
        7 if !raw.is_empty() => raw.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f64).collect(),
        7 => t.int64_data.iter().map(|&v| v as f64).collect(),
        6 if !raw.is_empty() => raw.chunks_exact(4).map(|b| i32::from_le_bytes(b.try_into().unwrap()) as f64).collect(),
        6 => t.int32_data.iter().map(|&v| v as f64).collect(),
        other => return Err(format!("unsupported tensor element type {other} (float, double, int32 and int64 are)")),
    };
    if data.len() != numel {
        return Err(format!("shape {dims:?} needs {numel} values but the tensor holds {}", data.len()));
    }
    if let Some(v) = data.iter().find(|v| !v.is_finite()) {
        return Err(format!("holds a non-finite value ({v})"));
    }
    Ok(Tensor { dims, data })
}
