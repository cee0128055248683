//! The image ops of ONNX as affine maps on the feature vector: `Conv`, `AveragePool`,
//! `GlobalAveragePool`, `BatchNormalization` (inference) and `Pad` act on one NCHW image (batch 1,
//! stored row-major as C·H·W values), and each is linear plus a constant. The loader
//! ([`super::onnx`]) turns each into a matrix and a bias and composes it into the value it acts
//! on, so the ops between two ReLUs become one (sparse) layer of the [`crate::model::Network`].
//!
//! `MaxPool` is piecewise linear, not affine: it becomes a selection of its windows' inputs, which
//! the network's max units take the maximum of ([`max_pool`]).
//!
//! Only 2-D images (NCHW) are handled; 1-D and 3-D kernels and dilated average pooling are refused
//! by name.

use super::onnx_proto::NodeProto;
use crate::model::Weight;
use ndarray::Array1;

/// The shape of one image: channels, height, width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl Image {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Position of `(c, y, x)` in the row-major feature vector.
    fn index(&self, c: usize, y: usize, x: usize) -> usize {
        (c * self.height + y) * self.width + x
    }
}

/// A sparse matrix, row by row: `(column, value)` pairs. Image ops touch a few inputs per output,
/// and a dense matrix of a padding or pooling step on a 32×27×27 image would take gigabytes.
#[derive(Clone, Debug)]
pub struct Sparse {
    pub columns: usize,
    pub rows: Vec<Vec<(usize, f64)>>,
}

impl Sparse {
    fn zeros(rows: usize, columns: usize) -> Self {
        Sparse { columns, rows: vec![Vec::new(); rows] }
    }

    /// The matrix as a layer weight (duplicates summed).
    pub fn into_weight(self) -> Weight {
        Weight::from_rows(self.columns, self.rows).compact()
    }
}

/// An affine map between images: `out = matrix · in + bias`.
pub struct Lowered {
    pub matrix: Sparse,
    pub bias: Array1<f64>,
    pub output: Image,
}

/// A spatial window along one axis: kernel extent, stride, dilation and the padding on each side.
#[derive(Clone, Copy, Debug)]
struct Axis {
    size: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    begin: usize,
    end: usize,
}

impl Axis {
    /// The input coordinate read by output `o` at kernel tap `k`, if it lies in the input.
    fn source(&self, o: usize, k: usize) -> Option<usize> {
        let at = (o * self.stride + k * self.dilation).checked_sub(self.begin)?;
        (at < self.size).then_some(at)
    }

    /// Output length with floor (or, for pooling with `ceil_mode`, ceiling) division. ONNX and
    /// PyTorch drop a last window that would start inside the end padding.
    fn output(&self, ceil: bool) -> Result<usize, String> {
        let reach = self.dilation * (self.kernel - 1) + 1;
        let padded = self.size + self.begin + self.end;
        if padded < reach {
            return Err(format!("a kernel of extent {reach} does not fit an input of {padded} (padding included)"));
        }
        let span = padded - reach;
        let mut out = if ceil { span.div_ceil(self.stride) + 1 } else { span / self.stride + 1 };
        if ceil && (out - 1) * self.stride >= self.size + self.begin {
            out -= 1;
        }
        Ok(out)
    }
}

/// The two spatial axes of a window op, from its attributes (`kernel_shape`, `strides`,
/// `dilations`, `pads`, `auto_pad`) and the input; `kernel` is the kernel's height and width when
/// the op does not say (Conv: the weight's shape).
fn axes(node: &NodeProto, input: Image, kernel: Option<[usize; 2]>) -> Result<[Axis; 2], String> {
    let two = |name: &str, default: [usize; 2]| -> Result<[usize; 2], String> {
        match node.attribute_named(name) {
            None => Ok(default),
            Some(a) => match positive(&a.ints, name)?[..] {
                [h, w] => Ok([h, w]),
                _ => Err(format!("'{name}' has {} values; only 2-D images (NCHW) are supported", a.ints.len())),
            },
        }
    };
    let kernel_shape = match (node.attribute_named("kernel_shape"), kernel) {
        (Some(_), _) => two("kernel_shape", [1, 1])?,
        (None, Some(k)) => k,
        (None, None) => return Err("no 'kernel_shape'".into()),
    };
    if let Some(k) = kernel.filter(|k| *k != kernel_shape) {
        return Err(format!("'kernel_shape' {kernel_shape:?} differs from the weight's {k:?}"));
    }
    let strides = two("strides", [1, 1])?;
    let dilations = two("dilations", [1, 1])?;
    let pads: [usize; 4] = match node.attribute_named("pads") {
        None => [0; 4],
        Some(a) => {
            let p: Vec<usize> = a
                .ints
                .iter()
                .map(|&v| usize::try_from(v).map_err(|_| format!("negative padding {v}")))
                .collect::<Result<_, _>>()?;
            p.try_into().map_err(|p: Vec<usize>| format!("'pads' has {} values; 2-D images need 4", p.len()))?
        }
    };
    let auto_pad = node.attribute_named("auto_pad").map(|a| String::from_utf8_lossy(&a.s).into_owned());
    let sizes = [input.height, input.width];
    let mut out = [0, 1].map(|d| Axis {
        size: sizes[d],
        kernel: kernel_shape[d],
        stride: strides[d],
        dilation: dilations[d],
        begin: pads[d],
        end: pads[d + 2],
    });
    match auto_pad.as_deref() {
        None | Some("NOTSET") => {}
        Some("VALID") => out.iter_mut().for_each(|a| (a.begin, a.end) = (0, 0)),
        Some(mode @ ("SAME_UPPER" | "SAME_LOWER")) => {
            for a in &mut out {
                // Output ceil(size / stride); the total padding is split, the odd unit at the end
                // (SAME_UPPER) or the beginning (SAME_LOWER).
                let target = a.size.div_ceil(a.stride);
                let total = ((target - 1) * a.stride + a.dilation * (a.kernel - 1) + 1).saturating_sub(a.size);
                let small = total / 2;
                (a.begin, a.end) = if mode == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
            }
        }
        Some(other) => return Err(format!("unsupported auto_pad '{other}'")),
    }
    Ok(out)
}

/// `Conv` with weight `[M, C/group, kH, kW]` and optional bias `[M]`, every attribute.
pub fn conv(
    node: &NodeProto,
    input: Image,
    weight: (&[usize], &[f64]),
    bias: Option<&[f64]>,
) -> Result<Lowered, String> {
    let (dims, w) = weight;
    let [m, per_group, kh, kw] = dims[..] else {
        return Err(format!("weight of shape {dims:?}; only 2-D convolutions (4-D weights) are supported"));
    };
    let group = node.attribute_named("group").map_or(Ok(1), |a| positive(&[a.i], "group").map(|g| g[0]))?;
    if input.channels != per_group * group || m % group != 0 {
        return Err(format!(
            "{} input channels, {group} groups and a weight of shape {dims:?} do not match",
            input.channels
        ));
    }
    if let Some(b) = bias.filter(|b| b.len() != m) {
        return Err(format!("bias of {} values for {m} output channels", b.len()));
    }
    let [ay, ax] = axes(node, input, Some([kh, kw]))?;
    let output = Image { channels: m, height: ay.output(false)?, width: ax.output(false)? };
    let mut matrix = Sparse::zeros(output.len(), input.len());
    let outputs_per_group = m / group;
    for oc in 0..m {
        let first_input = (oc / outputs_per_group) * per_group;
        for oy in 0..output.height {
            for ox in 0..output.width {
                let row = output.index(oc, oy, ox);
                for ic in 0..per_group {
                    for ky in 0..kh {
                        let Some(iy) = ay.source(oy, ky) else { continue };
                        for kx in 0..kw {
                            let Some(ix) = ax.source(ox, kx) else { continue };
                            let tap = ((oc * per_group + ic) * kh + ky) * kw + kx;
                            matrix.rows[row].push((input.index(first_input + ic, iy, ix), w[tap]));
                        }
                    }
                }
            }
        }
    }
    let bias = Array1::from_shape_fn(output.len(), |i| bias.map_or(0.0, |b| b[i / (output.height * output.width)]));
    Ok(Lowered { matrix, bias, output })
}

/// `AveragePool` (`count_include_pad`, `ceil_mode`; no dilation).
pub fn average_pool(node: &NodeProto, input: Image) -> Result<Lowered, String> {
    if node.attribute_named("dilations").is_some_and(|a| a.ints.iter().any(|&d| d != 1)) {
        return Err("dilated average pooling is not supported".into());
    }
    let include_pad = node.attribute_named("count_include_pad").is_some_and(|a| a.i != 0);
    let ceil = node.attribute_named("ceil_mode").is_some_and(|a| a.i != 0);
    let [ay, ax] = axes(node, input, None)?;
    let output = Image { channels: input.channels, height: ay.output(ceil)?, width: ax.output(ceil)? };
    let mut matrix = Sparse::zeros(output.len(), input.len());
    // Taps over padding count when `count_include_pad` is set, except beyond the end padding
    // (windows that `ceil_mode` adds), as in PyTorch and onnxruntime.
    let padded_taps =
        |a: &Axis, o: usize| (0..a.kernel).filter(|&k| o * a.stride + k < a.size + a.begin + a.end).count();
    for c in 0..input.channels {
        for oy in 0..output.height {
            for ox in 0..output.width {
                let taps: Vec<(usize, usize)> = (0..ay.kernel)
                    .filter_map(|ky| ay.source(oy, ky))
                    .flat_map(|iy| (0..ax.kernel).filter_map(move |kx| ax.source(ox, kx)).map(move |ix| (iy, ix)))
                    .collect();
                let count = if include_pad { padded_taps(&ay, oy) * padded_taps(&ax, ox) } else { taps.len() };
                if count == 0 {
                    return Err("an average-pooling window covers no input".into());
                }
                let row = output.index(c, oy, ox);
                matrix.rows[row] =
                    taps.into_iter().map(|(iy, ix)| (input.index(c, iy, ix), 1.0 / count as f64)).collect();
            }
        }
    }
    Ok(Lowered { matrix, bias: Array1::zeros(output.len()), output })
}

/// `MaxPool` (every attribute: `kernel_shape`, `strides`, `pads`, `auto_pad`, `dilations`,
/// `ceil_mode`) and `GlobalMaxPool` as max units (theory §11): a selection of the input values, one row per window tap
/// that lies in the input (padding counts as −∞ and is never chosen), the taps of each output
/// value consecutive; the windows as ranges of those rows; and the output shape.
pub fn max_pool(node: &NodeProto, input: Image) -> Result<(Sparse, Vec<std::ops::Range<usize>>, Image), String> {
    let [ay, ax] = if node.op_type == "GlobalMaxPool" {
        // One window per channel, over the whole image.
        [input.height, input.width].map(|size| Axis { size, kernel: size, stride: 1, dilation: 1, begin: 0, end: 0 })
    } else {
        axes(node, input, None)?
    };
    let ceil = node.attribute_named("ceil_mode").is_some_and(|a| a.i != 0);
    let output = Image { channels: input.channels, height: ay.output(ceil)?, width: ax.output(ceil)? };
    let mut select = Sparse::zeros(0, input.len());
    let mut windows = Vec::with_capacity(output.len());
    for c in 0..input.channels {
        for oy in 0..output.height {
            for ox in 0..output.width {
                let start = select.rows.len();
                for iy in (0..ay.kernel).filter_map(|ky| ay.source(oy, ky)) {
                    for ix in (0..ax.kernel).filter_map(|kx| ax.source(ox, kx)) {
                        select.rows.push(vec![(input.index(c, iy, ix), 1.0)]);
                    }
                }
                if select.rows.len() == start {
                    return Err(format!("the max-pooling window of output ({c}, {oy}, {ox}) covers no input"));
                }
                windows.push(start..select.rows.len());
            }
        }
    }
    Ok((select, windows, output))
}

/// `GlobalAveragePool`: each channel's mean.
pub fn global_average_pool(input: Image) -> Lowered {
    let output = Image { channels: input.channels, height: 1, width: 1 };
    let area = input.height * input.width;
    let mut matrix = Sparse::zeros(output.len(), input.len());
    for c in 0..input.channels {
        matrix.rows[c] = (0..area).map(|i| (c * area + i, 1.0 / area as f64)).collect();
    }
    Lowered { matrix, bias: Array1::zeros(output.len()), output }
}

/// `BatchNormalization` in inference: per channel `scale·(x − mean)/√(var + ε) + b`, as a factor
/// and a shift per value.
pub fn batch_norm(
    node: &NodeProto,
    input: Image,
    [scale, b, mean, var]: [&[f64]; 4],
) -> Result<(Array1<f64>, Array1<f64>), String> {
    if node.attribute_named("training_mode").is_some_and(|a| a.i != 0) {
        return Err("training_mode = 1 is not supported (export the model in eval mode)".into());
    }
    let c = input.channels;
    if [scale, b, mean, var].iter().any(|v| v.len() != c) {
        return Err(format!("parameters must have one value per channel ({c})"));
    }
    let epsilon = node.attribute_named("epsilon").map_or(crate::tolerance::ONNX_BATCH_NORM_EPSILON, |a| a.f as f64);
    if let Some(v) = var.iter().find(|v| **v + epsilon <= 0.0) {
        return Err(format!("variance {v} plus epsilon is not positive"));
    }
    let area = input.height * input.width;
    let factor: Vec<f64> = (0..c).map(|k| scale[k] / (var[k] + epsilon).sqrt()).collect();
    let shift: Vec<f64> = (0..c).map(|k| b[k] - mean[k] * factor[k]).collect();
    Ok((
        Array1::from_shape_fn(input.len(), |i| factor[i / area]),
        Array1::from_shape_fn(input.len(), |i| shift[i / area]),
    ))
}

/// `Pad` in constant mode on the spatial axes: `pads` `[N, C, H, W begins, N, C, H, W ends]`
/// (negative values crop); padded values are `value`.
pub fn pad(node: &NodeProto, input: Image, pads: &[f64], value: f64) -> Result<Lowered, String> {
    let mode =
        node.attribute_named("mode").map_or("constant".to_string(), |a| String::from_utf8_lossy(&a.s).into_owned());
    if mode != "constant" {
        return Err(format!("pad mode '{mode}' is not supported (only 'constant')"));
    }
    let [n0, c0, top, left, n1, c1, bottom, right] = pads[..] else {
        return Err(format!("'pads' has {} values; 2-D images (NCHW) need 8", pads.len()));
    };
    if [n0, c0, n1, c1].iter().any(|&p| p != 0.0) {
        return Err("padding the batch or channel axis is not supported".into());
    }
    let grown = |size: usize, a: f64, b: f64| -> Result<usize, String> {
        let out = size as f64 + a + b;
        if out < 1.0 {
            return Err("padding crops the image away".into());
        }
        Ok(out as usize)
    };
    let output = Image {
        channels: input.channels,
        height: grown(input.height, top, bottom)?,
        width: grown(input.width, left, right)?,
    };
    let mut matrix = Sparse::zeros(output.len(), input.len());
    let mut bias = Array1::zeros(output.len());
    for c in 0..output.channels {
        for y in 0..output.height {
            for x in 0..output.width {
                let (iy, ix) = (y as f64 - top, x as f64 - left);
                let row = output.index(c, y, x);
                if iy >= 0.0 && ix >= 0.0 && (iy as usize) < input.height && (ix as usize) < input.width {
                    matrix.rows[row].push((input.index(c, iy as usize, ix as usize), 1.0));
                } else {
                    bias[row] = value;
                }
            }
        }
    }
    Ok(Lowered { matrix, bias, output })
}

/// `Transpose` of a batch-1 4-D value: a permutation of the feature vector. The three non-batch
/// axes may be permuted in any order (TensorFlow exports go NHWC → NCHW and back); the result's
/// dimensions are read as the next image's `C, H, W`.
pub fn transpose(node: &NodeProto, input: Image) -> Result<Lowered, String> {
    let perm: Vec<i64> = node.attribute_named("perm").map(|a| a.ints.clone()).unwrap_or_else(|| vec![3, 2, 1, 0]);
    if perm.len() != 4 || perm[0] != 0 {
        return Err(format!(
            "perm {perm:?}: only permutations of the three non-batch axes of a 4-D value are supported"
        ));
    }
    let mut sorted = perm.clone();
    sorted.sort_unstable();
    if sorted != [0, 1, 2, 3] {
        return Err(format!("perm {perm:?} is not a permutation of 0..4"));
    }
    let dims = [input.channels, input.height, input.width];
    let axes: Vec<usize> = perm[1..].iter().map(|&p| p as usize - 1).collect();
    let output = Image { channels: dims[axes[0]], height: dims[axes[1]], width: dims[axes[2]] };
    let mut matrix = Sparse::zeros(output.len(), input.len());
    for a in 0..output.channels {
        for b in 0..output.height {
            for c in 0..output.width {
                let mut at = [0; 3];
                for (axis, value) in axes.iter().zip([a, b, c]) {
                    at[*axis] = value;
                }
                matrix.rows[output.index(a, b, c)].push((input.index(at[0], at[1], at[2]), 1.0));
            }
        }
    }
    Ok(Lowered { matrix, bias: Array1::zeros(output.len()), output })
}

/// The values of an integer attribute, each at least 1.
fn positive(values: &[i64], name: &str) -> Result<Vec<usize>, String> {
    values
        .iter()
        .map(|&v| {
            usize::try_from(v).ok().filter(|v| *v >= 1).ok_or_else(|| format!("'{name}' must be positive, got {v}"))
        })
        .collect()
}
