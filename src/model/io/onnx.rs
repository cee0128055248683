//! ONNX loader: a chain of affine ops and ReLUs, as exported by PyTorch, Keras/tf2onnx, MATLAB and
//! the ERAN/NNet converters, composed into the dense layers of a [`Network`].
//!
//! The graph is read as one chain from its single non-constant input: consecutive affine ops
//! (`Gemm`, `MatMul` in either operand order, `Add`, `Sub`, `Mul`, `Div` by constants, and the
//! image ops `Conv`, `AveragePool`, `GlobalAveragePool`, `BatchNormalization`, `Pad` of
//! [`super::onnx_image`]) are composed into one affine map; each `Relu` closes a hidden layer;
//! shape-only ops (`Flatten`, `Reshape`, `Identity`, `Squeeze`, `Unsqueeze`) keep the feature
//! vector (row-major) unchanged. The image ops need the value's NCHW shape: it is known from a 4-D
//! graph input and kept through image ops, ReLUs and 4-D reshapes. A `Relu` on the output becomes
//! a hidden layer followed by the identity. Anything else is refused with the op, the node and what
//! is supported.
//!
//! Layers are stored dense: a convolution's map is composed into a dense matrix (sparse storage
//! is future work, issue 14).

use super::onnx_image::{self, Image, Lowered};
use super::onnx_proto::{ModelProto, NodeProto, TensorProto};
use crate::model::{Layer, Network, Weight};
use ndarray::{Array1, Array2};
use prost::Message;
use rustc_hash::FxHashMap;

const SUPPORTED: &str = "Gemm, MatMul, Add, Sub, Mul, Div, Relu, Conv, AveragePool, GlobalAveragePool, \
    BatchNormalization, Pad, Flatten, Reshape, Identity, Squeeze, Unsqueeze, Constant";

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
    let (width, image) = input_shape(input)?;
    let mut chain = Chain {
        current: input.name.clone(),
        layers: Vec::new(),
        map: Map::Identity(width),
        bias: Array1::zeros(width),
        image,
    };
    for node in &graph.node {
        chain.apply(node, &mut constants).map_err(|e| format!("node '{}' ({}): {e}", node.name, node.op_type))?;
    }
    let outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    if outputs != [chain.current.as_str()] {
        return Err(format!(
            "the graph's outputs {outputs:?} are not the end of the chain of supported ops ('{}')",
            chain.current
        ));
    }
    let mut layers = chain.layers;
    layers.push(Layer { weight: chain.map.into_weight(), bias: chain.bias });
    Network::new(layers, None).map_err(|e| e.to_string())
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

/// The affine map from the last ReLU output (or the input) to the current value.
struct Chain {
    current: String,
    layers: Vec<Layer>,
    map: Map,
    bias: Array1<f64>,
    /// The current value's NCHW shape, when known (needed by the image ops).
    image: Option<Image>,
}

impl Chain {
    fn width(&self) -> usize {
        self.map.rows()
    }

    fn apply(&mut self, node: &NodeProto, constants: &mut FxHashMap<String, Tensor>) -> Result<(), String> {
        if node.op_type == "Constant" {
            let value =
                node.attribute_named("value").and_then(|a| a.t.as_ref()).ok_or("Constant without a 'value' tensor")?;
            let out = node.output.first().ok_or("no output")?;
            constants.insert(out.clone(), tensor(value)?);
            return Ok(());
        }
        let is_current: Vec<bool> = node.input.iter().map(|i| *i == self.current).collect();
        for (name, current) in node.input.iter().zip(&is_current) {
            if !current && !name.is_empty() && !constants.contains_key(name) {
                return Err(format!(
                    "reads '{name}', which is neither a constant nor the current value '{}' (only chains are supported)",
                    self.current
                ));
            }
        }
        let constant = |i: usize| -> Result<&Tensor, String> {
            node.input.get(i).and_then(|n| constants.get(n)).ok_or_else(|| format!("input {i} must be a constant"))
        };
        let image = || {
            self.image.ok_or("needs an NCHW image, but the current value's shape is not known (a 4-D graph input or a 4-D Reshape gives it)")
        };
        let mut next_image = None;
        match (node.op_type.as_str(), is_current.as_slice()) {
            ("Identity", [true]) => next_image = self.image,
            ("Flatten" | "Squeeze" | "Unsqueeze", [true, ..]) => {}
            ("Reshape", [true, ..]) => {
                let shape = constant(1)?;
                if shape.data.iter().all(|&d| d > 0.0) && shape.data.iter().product::<f64>() != self.width() as f64 {
                    return Err(format!("reshape to {:?} does not hold {} values", shape.data, self.width()));
                }
                if let [_, c, h, w] = shape.data[..] {
                    if c > 0.0 && h > 0.0 && w > 0.0 && c * h * w == self.width() as f64 {
                        next_image = Some(Image { channels: c as usize, height: h as usize, width: w as usize });
                    }
                }
            }
            ("Conv", [true, false, ..]) => {
                let w = constant(1)?;
                let bias = match node.input.get(2).filter(|b| !b.is_empty()) {
                    Some(_) => Some(constant(2)?.data.as_slice()),
                    None => None,
                };
                let lowered = onnx_image::conv(node, image()?, (&w.dims, &w.data), bias)?;
                next_image = Some(self.compose_lowered(lowered)?);
            }
            ("Transpose", [true]) => next_image = Some(self.compose_lowered(onnx_image::transpose(node, image()?)?)?),
            ("AveragePool", [true]) => next_image = Some(self.compose_lowered(onnx_image::average_pool(node, image()?)?)?),
            ("GlobalAveragePool", [true]) => next_image = Some(self.compose_lowered(onnx_image::global_average_pool(image()?))?),
            ("BatchNormalization", [true, false, false, false, false]) => {
                let input = image()?;
                let params = [1, 2, 3, 4].map(|i| constant(i).map(|t| t.data.as_slice()));
                let [a, b, c, d] = params;
                let (factor, shift) = onnx_image::batch_norm(node, input, [a?, b?, c?, d?])?;
                self.scale_rows(&factor);
                self.bias = &self.bias + &shift;
                next_image = Some(input);
            }
            ("Pad", [true, ..]) => {
                let pads = match node.input.get(1).filter(|p| !p.is_empty()) {
                    Some(_) => constant(1)?.data.clone(),
                    None => node.attribute_named("pads").map(|a| a.ints.iter().map(|&v| v as f64).collect()).unwrap_or_default(),
                };
                if node.input.get(3).is_some_and(|a| !a.is_empty()) {
                    return Err("the 'axes' input is not supported".into());
                }
                let value = match node.input.get(2).filter(|v| !v.is_empty()) {
                    Some(_) => constant(2)?.data.first().copied().unwrap_or(0.0),
                    None => node.attribute_named("value").map_or(0.0, |a| a.f as f64),
                };
                next_image = Some(self.compose_lowered(onnx_image::pad(node, image()?, &pads, value)?)?);
            }
            ("Relu", [true]) => {
                next_image = self.image;
                let n = self.width();
                let weight = std::mem::replace(&mut self.map, Map::Identity(n)).into_weight();
                let bias = std::mem::replace(&mut self.bias, Array1::zeros(n));
                self.layers.push(Layer { weight, bias });
            }
            ("Gemm", [true, false, ..]) => {
                let alpha = node.attribute_named("alpha").map_or(1.0, |a| a.f as f64);
                let beta = node.attribute_named("beta").map_or(1.0, |a| a.f as f64);
                if node.attribute_named("transA").is_some_and(|a| a.i != 0) {
                    return Err("transA = 1 on the data input is not supported".into());
                }
                let b = matrix(constant(1)?)?;
                // Y = alpha · x · B' + beta · C with B' = Bᵀ if transB: as a column map, W = alpha · B'ᵀ.
                let w = if node.attribute_named("transB").is_some_and(|a| a.i != 0) { b } else { b.reversed_axes() };
                self.compose((w * alpha).into())?;
                if node.input.len() > 2 && !node.input[2].is_empty() {
                    let c = self.broadcast(constant(2)?)?;
                    self.bias = &self.bias + &(c * beta);
                }
            }
            ("MatMul", [true, false]) => {
                let b = constant(1)?;
                let w = if b.dims.len() == 1 { Array2::from_shape_vec((1, b.data.len()), b.data.clone()).unwrap() } else { matrix(b)?.reversed_axes() };
                self.compose(w.into())?;
            }
            ("MatMul", [false, true]) => {
                let a = constant(0)?;
                let w = if a.dims.len() == 1 { Array2::from_shape_vec((1, a.data.len()), a.data.clone()).unwrap() } else { matrix(a)? };
                self.compose(w.into())?;
            }
            ("Add", [true, false] | [false, true]) => {
                let c = self.broadcast(constant(if is_current[0] { 1 } else { 0 })?)?;
                self.bias = &self.bias + &c;
                next_image = self.image;
            }
            ("Sub", [true, false]) => {
                let c = self.broadcast(constant(1)?)?;
                self.bias = &self.bias - &c;
                next_image = self.image;
            }
            ("Sub", [false, true]) => {
                let c = self.broadcast(constant(0)?)?;
                self.scale_rows(&Array1::from_elem(self.width(), -1.0));
                self.bias = &c + &self.bias;
                next_image = self.image;
            }
            ("Mul" | "Div", [true, false] | [false, true]) if node.op_type == "Mul" || is_current[0] => {
                let mut c = self.broadcast(constant(if is_current[0] { 1 } else { 0 })?)?;
                if node.op_type == "Div" {
                    if c.iter().any(|v| *v == 0.0) {
                        return Err("division by zero".into());
                    }
                    c.mapv_inplace(|v| 1.0 / v);
                }
                self.scale_rows(&c);
                next_image = self.image;
            }
            ("MaxPool", _) => {
                return Err("MaxPool is piecewise linear, not affine: not supported yet (AveragePool is)".into());
            }
            (op, _) if !SUPPORTED.split(", ").any(|supported| supported == op) => {
                return Err(format!("unsupported op '{op}' (supported: {SUPPORTED})"));
            }
            (op, _) => return Err(format!("{op} with these operands is not supported (data input must be the current value, the others constants)")),
        }
        self.current = node.output.first().ok_or("no output")?.clone();
        self.image = next_image;
        Ok(())
    }

    /// Current ← matrix · current + bias, for an image op; returns the output's shape.
    fn compose_lowered(&mut self, lowered: Lowered) -> Result<Image, String> {
        if lowered.matrix.columns != self.width() {
            return Err(format!("an image of {} values applied to {} values", lowered.matrix.columns, self.width()));
        }
        self.compose(lowered.matrix.into_weight())?;
        self.bias += &lowered.bias;
        Ok(lowered.output)
    }

    /// Current ← diag(factor) · current.
    fn scale_rows(&mut self, factor: &Array1<f64>) {
        let n = factor.len();
        self.compose(Weight::from_triplets(n, n, factor.iter().enumerate().map(|(i, &f)| (i, i, f))))
            .expect("one factor per value");
    }

    /// Current ← w · current.
    fn compose(&mut self, w: Weight) -> Result<(), String> {
        if w.ncols() != self.width() {
            return Err(format!("weight of shape {}×{} applied to {} values", w.nrows(), w.ncols(), self.width()));
        }
        self.bias = w.dot(self.bias.view());
        self.map = std::mem::replace(&mut self.map, Map::Identity(0)).then(w);
        Ok(())
    }

    /// A constant broadcast to the current width: a scalar, exactly `width` values, or, on an
    /// image, one value per channel (shape `[C, 1, 1]` or `[1, C, 1, 1]`).
    fn broadcast(&self, c: &Tensor) -> Result<Array1<f64>, String> {
        let per_channel = |image: &Image| {
            let significant: Vec<usize> = c.dims.iter().copied().skip_while(|&d| d == 1).collect();
            c.dims.len() >= 3
                && significant.first() == Some(&image.channels)
                && significant[1..].iter().all(|&d| d == 1)
        };
        match (c.data.len(), &self.image) {
            (1, _) => Ok(Array1::from_elem(self.width(), c.data[0])),
            (n, _) if n == self.width() => Ok(Array1::from(c.data.clone())),
            (_, Some(image)) if per_channel(image) => {
                let area = image.height * image.width;
                Ok(Array1::from_shape_fn(self.width(), |i| c.data[i / area]))
            }
            (n, _) => Err(format!(
                "constant of {n} values (shape {:?}) does not broadcast to {} values",
                c.dims,
                self.width()
            )),
        }
    }
}

/// The linear part of a chain: the identity until the first op, then one matrix, kept sparse while
/// it is mostly zeros (a convolution's rows have a few nonzeros; a dense padding step on a large
/// image would not fit in memory).
enum Map {
    Identity(usize),
    Matrix(Weight),
}

impl Map {
    fn rows(&self) -> usize {
        match self {
            Map::Identity(n) => *n,
            Map::Matrix(w) => w.nrows(),
        }
    }

    /// `m · self`.
    fn then(self, m: Weight) -> Map {
        match self {
            Map::Identity(_) => Map::Matrix(m.compact()),
            Map::Matrix(a) => Map::Matrix(m.compose(&a)),
        }
    }

    fn into_weight(self) -> Weight {
        match self {
            Map::Identity(n) => Weight::identity(n),
            Map::Matrix(w) => w,
        }
    }
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
