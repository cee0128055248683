//! `.nnet` (Reluplex / Marabou / NNV text format): header comments, sizes, input min/max, means and
//! ranges, then each layer's weight rows and biases. Trailing commas and blank lines are tolerated.
//!
//! The weights act on *normalised* inputs `(x - mean) / range` (the VNN-COMP ONNX copies hold the
//! same weights and vnnlib boxes are normalised too), so by default the network is returned as
//! written, with the min/max box normalised. With `raw_units`, the normalisation is folded into
//! layer 1 (and the output de-normalisation into the last layer), so that centres and the input box
//! are in the raw units of the header. The reference implementation's clamping of inputs to
//! [min, max] is not part of the function (it is not piecewise linear in the same way); use
//! `--clip-to-input-box` to restrict the domain instead.

use crate::model::{InputBox, Layer, Network};
use ndarray::{Array1, Array2};

/// Parses a `.nnet` file's text.
pub fn network_from_nnet_str(text: &str, raw_units: bool) -> Result<Network, String> {
    // (line number, values) of every non-comment, non-blank line.
    let mut lines = text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.trim();
        (!l.is_empty() && !l.starts_with("//")).then_some((i + 1, l))
    });
    let mut next = |what: &str| -> Result<(usize, Vec<f64>), String> {
        let (n, line) = lines.next().ok_or_else(|| format!("file ends before the {what}"))?;
        let values = line
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.parse::<f64>().map_err(|_| format!("line {n}: '{t}' in the {what} is not a number")))
            .collect::<Result<Vec<f64>, String>>()?;
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(format!("line {n}: the {what} holds {v}"));
        }
        Ok((n, values))
    };
    let (n, head) = next("size line")?;
    let count = |v: f64, what: &str| -> Result<usize, String> {
        (v >= 1.0 && v.fract() == 0.0 && v <= 1e7)
            .then_some(v as usize)
            .ok_or_else(|| format!("line {n}: {what} {v} is not a sensible size"))
    };
    let [layers, inputs, outputs, ..] = head[..] else {
        return Err(format!("line {n}: expected numLayers,inputSize,outputSize,maxLayerSize"));
    };
    let (layers, inputs, outputs) =
        (count(layers, "numLayers")?, count(inputs, "inputSize")?, count(outputs, "outputSize")?);
    let (n, sizes) = next("layer sizes")?;
    if sizes.len() < layers + 1 {
        return Err(format!("line {n}: {} layer sizes for {layers} layers (need {})", sizes.len(), layers + 1));
    }
    let sizes: Vec<usize> = sizes[..layers + 1].iter().map(|&s| count(s, "layer size")).collect::<Result<_, _>>()?;
    if sizes[0] != inputs || sizes[layers] != outputs {
        return Err(format!("line {n}: layer sizes {sizes:?} disagree with inputSize {inputs} / outputSize {outputs}"));
    }
    let expected_lines: usize = sizes.windows(2).map(|w| 2 * w[1]).sum();
    let remaining = text.lines().filter(|l| !l.trim().is_empty() && !l.trim().starts_with("//")).count();
    if remaining < 7 + expected_lines {
        return Err(format!(
            "the header promises {expected_lines} weight and bias lines but the file has only {}",
            remaining.saturating_sub(7)
        ));
    }
    next("symmetric flag")?;
    let mut vector = |what: &str, len: usize| -> Result<Vec<f64>, String> {
        let (n, v) = next(what)?;
        if v.len() < len {
            return Err(format!("line {n}: the {what} has {} values, need {len}", v.len()));
        }
        Ok(v[..len].to_vec())
    };
    let mins = vector("input minimums", inputs)?;
    let maxs = vector("input maximums", inputs)?;
    let means = vector("means", inputs + 1)?;
    let ranges = vector("ranges", inputs + 1)?;
    if let Some(i) = ranges.iter().position(|r| *r == 0.0) {
        return Err(format!("range {i} is zero: the normalisation is undefined"));
    }
    let mut built = Vec::with_capacity(layers);
    for l in 0..layers {
        let (rows, cols) = (sizes[l + 1], sizes[l]);
        let mut weight = Array2::zeros((rows, cols));
        for r in 0..rows {
            let row = vector(&format!("layer {} weight row {r}", l + 1), cols)?;
            weight.row_mut(r).assign(&Array1::from(row));
        }
        let mut bias = Array1::zeros(rows);
        for r in 0..rows {
            bias[r] = vector(&format!("layer {} bias {r}", l + 1), 1)?[0];
        }
        built.push(Layer { weight: weight.into(), bias });
    }
    let normalise = |v: &[f64]| -> Vec<f64> { v.iter().enumerate().map(|(i, x)| (x - means[i]) / ranges[i]).collect() };
    let input_box = if raw_units {
        let first = &mut built[0];
        for i in 0..inputs {
            let col = first.weight.column(i);
            first.bias = &first.bias - &(&col * (means[i] / ranges[i]));
        }
        first.weight.map_by_column(|i, w| w * (1.0 / ranges[i]));
        let (range_out, mean_out) = (ranges[inputs], means[inputs]);
        let last = built.last_mut().unwrap();
        last.weight.map_by_column(|_, w| w * range_out);
        last.bias.mapv_inplace(|b| b * range_out + mean_out);
        InputBox { lower: mins, upper: maxs }
    } else {
        InputBox { lower: normalise(&mins), upper: normalise(&maxs) }
    };
    Network::new(built, Some(input_box)).map_err(|e| e.to_string())
}
